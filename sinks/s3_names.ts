/**
 * S3 bucket naming rules (AWS "General purpose bucket naming rules"), checked before the run so
 * a bad name is one usage line that says what is wrong, not a 400 from S3 an hour later.
 */

/** What is wrong with a bucket name, or null when it follows the rules. */
export function bucketProblem(name: string): string | null {
  if (name.length < 3 || name.length > 63) {
    return `is ${name.length} characters long; bucket names have 3 to 63`;
  }
  if (/[A-Z]/.test(name)) return "has uppercase letters; bucket names are lowercase";
  const bad = /[^a-z0-9.-]/.exec(name);
  if (bad) {
    return `has ${JSON.stringify(bad[0])}; only lowercase letters, digits, "." and "-" are allowed`;
  }
  if (!/^[a-z0-9]/.test(name) || !/[a-z0-9]$/.test(name)) {
    return "must begin and end with a letter or digit";
  }
  if (name.includes("..")) return 'has two adjacent "."';
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(name)) return "is formatted as an IP address";
  if (/^(xn--|sthree-|amzn-s3-demo-)/.test(name)) return "starts with a prefix S3 reserves";
  if (/(-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)$/.test(name)) {
    return "ends with a suffix S3 reserves";
  }
  return null;
}
