// Where the job queue lives: a Redis server named by a redis:// URL (the --queue option). BullMQ
// connects on its own and retries for ever; before handing it the connection we ask Redis once,
// with a short timeout, so that a wrong address or a server that is down fails in seconds with a
// message saying so, instead of a process that waits silently.
import type { RedisOptions } from "bullmq";
import { Redis } from "ioredis";

/** How long the first contact with Redis may take before the command gives up. */
const reachTimeoutMs = 3000;

/** Connection options from redis://[user:password@]host[:port][/db] (rediss:// for TLS). */
export function redisOptions(url: string): RedisOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`--queue ${JSON.stringify(url)} is not a URL; expected redis://HOST:PORT[/DB]`);
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:")
    throw new Error(`--queue ${url} is not a redis:// or rediss:// URL`);
  const db = parsed.pathname.replace(/^\//, "");
  if (db !== "" && !/^\d+$/.test(db))
    throw new Error(`--queue ${url}: the database after the port must be a number, not ${JSON.stringify(db)}`);
  return {
    host: parsed.hostname || "127.0.0.1",
    port: parsed.port ? Number(parsed.port) : 6379,
    db: db === "" ? 0 : Number(db),
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(parsed.protocol === "rediss:" ? { tls: {} } : {}),
  };
}

/** The URL without its password, for messages. */
export function displayUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
}

/** Connects once and pings, failing within a few seconds with a message naming the server. */
export async function requireRedis(url: string): Promise<RedisOptions> {
  const options = redisOptions(url);
  const client = new Redis({
    ...options,
    lazyConnect: true,
    connectTimeout: reachTimeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  // The socket's own error (ECONNREFUSED, ENOTFOUND) comes as an event; the rejection only says "closed".
  let cause: Error | undefined;
  client.on("error", (error: Error) => (cause ??= error));
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    throw new Error(`cannot reach Redis at ${displayUrl(url)} (--queue): ${(cause ?? (error as Error)).message}`);
  } finally {
    client.disconnect();
  }
  return options;
}
