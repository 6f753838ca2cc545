/**
 * Real S3 servers for tests, on loopback: s3rver (npm; stores objects like S3 but does not
 * verify SigV4 signatures) and moto_server (verifies SigV4 with botocore and enforces IAM
 * policies once its first few set-up actions are done). Installed by .ci/install_test_tools.sh;
 * each start function returns a reason string instead of a server when its tool is missing.
 */
import { sleep } from "../../base/time.ts";
import { amzDate, sha256Hex, sign } from "../../sinks/sigv4.ts";
import { closedPort } from "../fakes/loopback.ts";

export function toolsDir(): string {
  const env = Deno.env.get("RT_TOOLS_DIR");
  if (env) return env;
  const cache = Deno.env.get("XDG_CACHE_HOME") || `${Deno.env.get("HOME") ?? "/root"}/.cache`;
  return `${cache}/resource-tracker-ci`;
}

async function has(cmd: string, args: string[] = ["--version"]): Promise<boolean> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).output();
    return out.success;
  } catch {
    return false;
  }
}

export interface RealS3 {
  url: string;
  close(): Promise<void>;
}

async function waitForPort(port: number, child: Deno.ChildProcess, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      c.close();
      return;
    } catch {
      if (Date.now() > end) {
        child.kill();
        await child.status;
        throw new Error(`server on port ${port} did not start within ${ms} ms`);
      }
      await sleep(100);
    }
  }
}

function stopper(child: Deno.ChildProcess, dir?: string) {
  return async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* gone */ }
    await child.status;
    if (dir) await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
}

/** s3rver with `buckets` created; a reason string when it is not installed. */
export async function startS3rver(buckets: string[]): Promise<RealS3 | string> {
  const bin = `${toolsDir()}/s3rver/node_modules/s3rver/bin/s3rver.js`;
  try {
    Deno.statSync(bin);
  } catch {
    return `s3rver is not installed at ${bin} (run .ci/install_test_tools.sh)`;
  }
  if (!await has("node")) return "node is not on PATH";
  const dir = await Deno.makeTempDir({ prefix: "rt-s3rver-" });
  const port = closedPort();
  const args = [bin, "-d", dir, "-a", "127.0.0.1", "-p", String(port), "--silent"];
  for (const b of buckets) args.push("--configure-bucket", b);
  const child = new Deno.Command("node", { args, stdout: "null", stderr: "null" }).spawn();
  await waitForPort(port, child);
  return { url: `http://127.0.0.1:${port}`, close: stopper(child, dir) };
}

export interface Moto extends RealS3 {
  /** A user allowed s3:* and to assume `tracker-uploads`. */
  writer: { key: string; secret: string };
  /** A user without any policy: S3 answers AccessDenied. */
  reader: { key: string; secret: string };
  /** Temporary credentials (with a session token) of the role `tracker-uploads`, via STS. */
  assumeRole(): Promise<{ access: string; secret: string; token: string }>;
}

/** `aws` with an endpoint and credentials; throws with its stderr on failure. */
export async function aws(
  url: string,
  creds: { key: string; secret: string },
  args: string[],
): Promise<string> {
  const out = await new Deno.Command("aws", {
    args: ["--endpoint-url", url, ...args],
    env: {
      AWS_ACCESS_KEY_ID: creds.key,
      AWS_SECRET_ACCESS_KEY: creds.secret,
      AWS_DEFAULT_REGION: "us-east-1",
      AWS_CONFIG_FILE: "/dev/null",
      AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
      AWS_EC2_METADATA_DISABLED: "true",
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  if (!out.success) throw new Error(`aws ${args.join(" ")}: ${dec.decode(out.stderr)}`);
  return dec.decode(out.stdout);
}

export async function hasAwsCli(): Promise<boolean> {
  return await has("aws");
}

/**
 * moto_server with `bucket`, a writer and a reader user. The first SETUP_ACTIONS requests are
 * free (moto's INITIAL_NO_AUTH_ACTION_COUNT); every later one is signature- and policy-checked.
 */
export async function startMoto(bucket: string): Promise<Moto | string> {
  if (!await has("moto_server", ["--help"])) {
    return "moto_server is not on this machine (see .ci/install_test_tools.sh)";
  }
  if (!await hasAwsCli()) return "the aws CLI is not installed";
  const SETUP_ACTIONS = 8;
  const port = closedPort();
  const child = new Deno.Command("moto_server", {
    args: ["-H", "127.0.0.1", "-p", String(port)],
    env: { INITIAL_NO_AUTH_ACTION_COUNT: String(SETUP_ACTIONS) },
    stdout: "null",
    stderr: "null",
  }).spawn();
  const url = `http://127.0.0.1:${port}`;
  const close = stopper(child);
  try {
    await waitForPort(port, child);
    // The free set-up actions need no valid signature, only a credential scope naming the
    // service (moto routes by it); plain requests keep this fast (one aws CLI call costs ~1-7 s).
    const free = async (service: string, method: string, path: string, form?: string) => {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: {
          authorization:
            `AWS4-HMAC-SHA256 Credential=AKIASETUP00000000000/20260101/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=00`,
          ...(form ? { "content-type": "application/x-www-form-urlencoded" } : {}),
        },
        ...(form ? { body: form } : {}),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`moto set-up ${path} ${form ?? ""}: HTTP ${res.status} ${text}`);
      return text;
    };
    const iam = (params: Record<string, string>) =>
      free(
        "iam",
        "POST",
        "/",
        new URLSearchParams({ ...params, Version: "2010-05-08" }).toString(),
      );
    const tag = (xml: string, t: string) => new RegExp(`<${t}>([^<]+)</${t}>`).exec(xml)?.[1] ?? "";
    const user = async (name: string) => {
      await iam({ Action: "CreateUser", UserName: name });
      const xml = await iam({ Action: "CreateAccessKey", UserName: name });
      return { key: tag(xml, "AccessKeyId"), secret: tag(xml, "SecretAccessKey") };
    };
    const writer = await user("tracker-writer");
    await iam({
      Action: "PutUserPolicy",
      UserName: "tracker-writer",
      PolicyName: "s3-all",
      PolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: ["s3:*", "sts:AssumeRole"], Resource: "*" }],
      }),
    });
    const reader = await user("tracker-reader");
    const allowS3 = JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "*" }],
    });
    await iam({
      Action: "CreateRole",
      RoleName: "tracker-uploads",
      AssumeRolePolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{
          Effect: "Allow",
          Principal: { AWS: "arn:aws:iam::123456789012:user/tracker-writer" },
          Action: "sts:AssumeRole",
        }],
      }),
    });
    await iam({
      Action: "PutRolePolicy",
      RoleName: "tracker-uploads",
      PolicyName: "s3-all",
      PolicyDocument: allowS3,
    });
    // The last free action; from here on moto checks every signature and policy.
    await free("s3", "PUT", `/${bucket}`);
    const assumeRole = async () => {
      // A signed STS call (moto checks it like any other).
      const body = new URLSearchParams({
        Action: "AssumeRole",
        Version: "2011-06-15",
        RoleArn: "arn:aws:iam::123456789012:role/tracker-uploads",
        RoleSessionName: `tracker-${crypto.randomUUID().slice(0, 8)}`,
        DurationSeconds: "3600",
      }).toString();
      const signed = sign({
        method: "POST",
        host: new URL(url).host,
        path: "/",
        payloadHash: sha256Hex(body),
        amzDate: amzDate(Date.now()),
        region: "us-east-1",
        service: "sts",
        credentials: { accessKeyId: writer.key, secretAccessKey: writer.secret },
      });
      const res = await fetch(`${url}/`, {
        method: "POST",
        headers: { ...signed.headers, "content-type": "application/x-www-form-urlencoded" },
        body,
      });
      const xml = await res.text();
      if (!res.ok) throw new Error(`AssumeRole: HTTP ${res.status} ${xml}`);
      return {
        access: tag(xml, "AccessKeyId"),
        secret: tag(xml, "SecretAccessKey"),
        token: tag(xml, "SessionToken"),
      };
    };
    return { url, writer, reader, assumeRole, close };
  } catch (err) {
    await close();
    throw err;
  }
}
