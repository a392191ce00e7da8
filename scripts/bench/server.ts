// Server throughput: the HTTP server on loopback, driven by 1, 8, 32 and 64 concurrent clients
// that each send one sentence per request and the next as soon as the last is answered, with
// dynamic batching off and on, same model, same threads, in one process. Writes the table and a
// chart into the docs.
import { availableParallelism, loadavg } from "node:os";
import { join } from "node:path";
import { writeFileAtomic } from "../../lib/util/atomic-file.js";
import { quantile } from "simple-statistics";
import { loadModel } from "../../lib/embedding/embedding-model.js";
import { buildServer } from "../../lib/server/app.js";
import { table } from "./measure.js";
import { barChartSvg } from "./peers-chart.js";

export interface ServerBenchOptions {
  modelPath: string;
  threads: number;
  texts: string[];
  textsName: string;
  /** requests sent at each concurrency level */
  requests: number;
  concurrency: number[];
  docsDirectory: string;
  commandLine: string;
}

interface LevelResult {
  batching: boolean;
  clients: number;
  requestsPerSecond: number;
  tokensPerSecond: number;
  p50: number;
  p99: number;
}

async function driveLevel(url: string, texts: string[], tokenCounts: number[], requests: number, clients: number) {
  const latencies: number[] = [];
  let tokens = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < requests) {
        const index = next++ % texts.length;
        const sent = performance.now();
        const response = await fetch(`${url}/embed`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ inputs: texts[index] }),
        });
        await response.arrayBuffer();
        if (response.status !== 200) throw new Error(`the server answered ${response.status} under ${clients} clients`);
        latencies.push(performance.now() - sent);
        tokens += tokenCounts[index]!;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return {
    requestsPerSecond: requests / seconds,
    tokensPerSecond: tokens / seconds,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
  };
}

export async function serverThroughput(options: ServerBenchOptions): Promise<string> {
  const model = await loadModel(options.modelPath, { threads: options.threads });
  const tokenCounts = options.texts.map((text) => model.tokenize(text).length);
  const load = loadavg()[0]!;
  // Both servers share the model; each level runs off then on, back to back, so that a change in
  // the machine's load during the run falls on both alike.
  const servers = [false, true].map((batching) => ({
    batching,
    app: buildServer(model, { batching, maxConcurrentRequests: Math.max(...options.concurrency) * 2 }),
  }));
  const results: LevelResult[] = [];
  try {
    const urls = await Promise.all(servers.map(({ app }) => app.listen({ host: "127.0.0.1", port: 0 })));
    for (const url of urls) await driveLevel(url, options.texts, tokenCounts, Math.min(16, options.requests), 4);
    for (const clients of options.concurrency) {
      for (const [i, { batching }] of servers.entries()) {
        console.error(`bench: server, ${clients} clients, batching ${batching ? "on" : "off"}…`);
        results.push({
          batching,
          clients,
          ...(await driveLevel(urls[i]!, options.texts, tokenCounts, options.requests, clients)),
        });
      }
    }
  } finally {
    for (const { app } of servers) await app.close();
    await model.dispose();
  }

  const unbatched = new Map(
    results.filter((result) => !result.batching).map((result) => [result.clients, result.requestsPerSecond]),
  );
  const rows = results.map((result) => ({
    batching: result.batching ? "on" : "off",
    clients: result.clients,
    "requests/s": result.requestsPerSecond,
    "tokens/s": result.tokensPerSecond,
    "p50 ms": result.p50,
    "p99 ms": result.p99,
    "vs batching off": result.requestsPerSecond / unbatched.get(result.clients)!,
  }));
  const header =
    `Server throughput: POST /embed, one ${options.textsName} sentence per request, ${options.requests} requests per level, ` +
    `threads: ${options.threads}, clients in the same process over loopback HTTP\n` +
    `model: ${options.modelPath}; machine: ${availableParallelism()} cores, load average ${load.toFixed(1)} at the start`;
  const report = `${header}\n\n${table(rows)}\n`;

  const chart = barChartSvg(
    "ctxembed serve: throughput by concurrent clients",
    "requests/s",
    results.map((result) => ({
      group: `${result.clients} client${result.clients === 1 ? "" : "s"}`,
      series: `batching ${result.batching ? "on" : "off"}`,
      value: result.requestsPerSecond,
    })),
  );
  await writeFileAtomic(join(options.docsDirectory, "bench-server.svg"), chart);
  await writeFileAtomic(
    join(options.docsDirectory, "bench-server.md"),
    `# Server benchmark\n\nWritten by \`${options.commandLine}\`.\n\n${header.replace("\n", "  \n")}\n\n${table(rows)}\n\n![requests per second by concurrent clients](bench-server.svg)\n`,
  );
  return report;
}
