import { describe, expect, it } from "vitest";
import { SerialQueue } from "../../../lib/util/serial-queue.js";

describe("SerialQueue", () => {
  it("never runs two tasks at once and survives a failing task", async () => {
    const queue = new SerialQueue();
    let running = 0;
    let maxRunning = 0;
    const task = (fail: boolean) => async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running--;
      if (fail) throw new Error("boom");
      return "ok";
    };
    const results = await Promise.allSettled([queue.run(task(false)), queue.run(task(true)), queue.run(task(false))]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(maxRunning).toBe(1);
  });
});
