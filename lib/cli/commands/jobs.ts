// BullMQ and ioredis load when a jobs command runs, not with every command of the CLI.
import { Command } from "commander";
import type { Queue, RedisOptions } from "bullmq";
import { queueName } from "../../jobs/wire.js";
import { note } from "../terminal.js";
import { queueOption, waitWithProgress } from "./queue-options.js";

interface JobsCommandOptions {
  queue: string;
}

/** BullMQ and what uses it, loaded on first use. */
async function jobModules() {
  const [{ Queue }, { requireRedis }, status] = await Promise.all([
    import("bullmq"),
    import("../../jobs/redis.js"),
    import("../../jobs/status.js"),
  ]);
  return { Queue, requireRedis, ...status };
}

/** Runs `work` with the job queue open, closing it after. */
async function withQueue<T>(url: string, work: (queue: Queue) => Promise<T>): Promise<T> {
  const { Queue, requireRedis } = await jobModules();
  const queue = new Queue(queueName, { connection: await requireRedis(url) });
  try {
    return await work(queue);
  } finally {
    await queue.close();
  }
}

export function jobsCommand(): Command {
  const jobs = new Command("jobs")
    .description("follow, retry or cancel distributed embedding jobs (ctxembed embed --queue … --detach)")
    .addHelpText(
      "after",
      `
Examples:
  $ ctxembed jobs status embed-3f0c… --queue redis://queue-host:6379
  $ ctxembed jobs wait embed-3f0c… --queue redis://queue-host:6379
  $ ctxembed jobs retry embed-3f0c… --queue redis://queue-host:6379
  $ ctxembed jobs cancel embed-3f0c… --queue redis://queue-host:6379`,
    );
  jobs
    .command("status")
    .description(
      "print the job's state as JSON: shards done, pending and failed (with line ranges and errors), the manifest once written",
    )
    .argument("<id>", "the job id that embed --detach printed")
    .addOption(queueOption().makeOptionMandatory())
    .action(async (id: string, options: JobsCommandOptions) => {
      const { describeFailure, jobStatus } = await jobModules();
      const status = await withQueue(options.queue, (queue) => jobStatus(queue, id));
      process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
      for (const failure of status.failed) note(`failed: ${describeFailure(failure)}`);
    });
  jobs
    .command("wait")
    .description("wait for the job to finish, with progress on stderr; exit 1 naming the shards that failed")
    .argument("<id>", "the job id")
    .addOption(queueOption().makeOptionMandatory())
    .action(async (id: string, options: JobsCommandOptions) => {
      const { requireRedis } = await jobModules();
      await waitWithProgress(await requireRedis(options.queue), id);
    });
  jobs
    .command("retry")
    .description(
      "run a finished job's failed shards again (the input unchanged), reusing every committed part, and wait for it",
    )
    .argument("<id>", "the job id")
    .addOption(queueOption().makeOptionMandatory())
    .option("--detach", "print the job id and return instead of waiting", false)
    .action(async (id: string, options: JobsCommandOptions & { detach: boolean }) => {
      const [{ requireRedis }, { retryEmbedJob }] = await Promise.all([
        import("../../jobs/redis.js"),
        import("../../jobs/submit.js"),
      ]);
      const connection = await requireRedis(options.queue);
      await retryEmbedJob(connection, id, { onProgress: note });
      if (options.detach) process.stdout.write(`${id}\n`);
      else await waitWithProgress(connection, id);
    });
  jobs
    .command("cancel")
    .description(
      "stop the job: workers drop its running shards at their next chunk, then it and its shards are removed; committed parts stay",
    )
    .argument("<id>", "the job id")
    .addOption(queueOption().makeOptionMandatory())
    .action(async (id: string, options: JobsCommandOptions) => {
      const { cancelJob } = await jobModules();
      const { Redis } = await import("ioredis");
      const { shards, running } = await withQueue(options.queue, async (queue) => {
        const client = new Redis(queue.opts.connection as RedisOptions);
        try {
          return await cancelJob(queue, client, id);
        } finally {
          client.disconnect();
        }
      });
      note(
        `job ${id} cancelled: removed it and its ${shards} shard jobs (${running} running, dropped by their workers at their next chunk); committed parts stay in its output folder`,
      );
    });
  return jobs;
}
