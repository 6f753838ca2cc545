/** Placeholder replaced below. */
export function dashboardHtml(): string {
  return "";
}
