// The dynamic batcher with a fake model call: merging, the token budget, option keys, the
// bounded queue, error isolation and draining, each checked against what the calls received.
import { describe, expect, it } from "vitest";
import { Batcher, type BatcherOptions, type BatchReport } from "../../../lib/server/batcher.js";
import { ApiError } from "../../../lib/server/errors.js";

interface FakeOptions {
  suffix: string;
}

/** A fake model: answers `text + suffix`; holds each call until released, and records every call. */
function fakeModel() {
  const calls: { texts: string[]; options: FakeOptions }[] = [];
  const gates: (() => void)[] = [];
  const run = async (texts: string[], options: FakeOptions): Promise<string[]> => {
    calls.push({ texts, options });
    await new Promise<void>((release) => gates.push(release));
    if (texts.includes("bad")) throw new RangeError("bad input");
    return texts.map((text) => text + options.suffix);
  };
  /** Lets the oldest held call finish and waits until the batcher has moved on. */
  const release = async () => {
    while (gates.length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    gates.shift()!();
    await new Promise((resolve) => setTimeout(resolve, 1));
  };
  return { calls, run, release };
}

const defaults: BatcherOptions = { maxBatchTokens: 100, maxRequests: 100, merge: true };
const tokensOf = (texts: string[]) => texts.map((text) => text.length);

async function settleAll(
  model: ReturnType<typeof fakeModel>,
  promises: Promise<unknown>[],
): Promise<PromiseSettledResult<unknown>[]> {
  const settled = Promise.allSettled(promises);
  let done = false;
  void settled.then(() => (done = true));
  while (!done) await model.release();
  return settled;
}

describe("Batcher", () => {
  it("merges requests that arrive together into one call", async () => {
    const model = fakeModel();
    const batcher = new Batcher(model.run, defaults, () => {});
    const requests = [["a"], ["b", "c"], ["d"]];
    const settled = await settleAll(
      model,
      requests.map((texts) => batcher.submit(texts, tokensOf(texts), { suffix: "!" })),
    );
    expect(settled.map((result) => (result as PromiseFulfilledResult<string[]>).value)).toEqual([
      ["a!"],
      ["b!", "c!"],
      ["d!"],
    ]);
    expect(model.calls.map((call) => call.texts)).toEqual([["a", "b", "c", "d"]]);
  });

  it("merges requests that wait while the model is busy, and gives each its own results", async () => {
    const model = fakeModel();
    const reports: BatchReport[] = [];
    const batcher = new Batcher(model.run, defaults, (report) => reports.push(report));
    const first = batcher.submit(["a"], [1], { suffix: "!" });
    while (model.calls.length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    const later = [["b", "c"], ["d"], ["e", "f", "g"]];
    const settled = await settleAll(model, [
      first,
      ...later.map((texts) => batcher.submit(texts, tokensOf(texts), { suffix: "!" })),
    ]);

    expect(settled.map((result) => (result as PromiseFulfilledResult<string[]>).value)).toEqual(
      [["a"], ...later].map((texts) => texts.map((t) => `${t}!`)),
    );
    // The first request started alone; the three that queued behind it share one call.
    expect(model.calls.map((call) => call.texts)).toEqual([["a"], ["b", "c", "d", "e", "f", "g"]]);
    expect(reports.map((report) => [report.requests, report.inputs, report.tokens])).toEqual([
      [1, 1, 1],
      [3, 6, 6],
    ]);
    expect(batcher.inFlight).toBe(0);
  });

  it("keeps each merged call within the token budget and never delays the oldest request", async () => {
    const model = fakeModel();
    const batcher = new Batcher(model.run, { ...defaults, maxBatchTokens: 10 }, () => {});
    const texts = ["x", "aaaa", "bbbb", "cccccccccccc", "dd", "eeee"];
    const pending = texts.map((text) => batcher.submit([text], [text.length], { suffix: "" }));
    await settleAll(model, pending);
    const batches = model.calls.map((call) => call.texts);
    expect(batches).toEqual([["x", "aaaa", "bbbb"], ["cccccccccccc"], ["dd", "eeee"]]);
    for (const batch of batches.filter((batch) => batch.length > 1))
      expect(batch.join("").length).toBeLessThanOrEqual(10);
  });

  it("merges only requests with identical options", async () => {
    const model = fakeModel();
    const batcher = new Batcher(model.run, defaults, () => {});
    const pending = [
      batcher.submit(["first"], [1], { suffix: "" }),
      batcher.submit(["a"], [1], { suffix: "-1" }),
      batcher.submit(["b"], [1], { suffix: "-2" }),
      batcher.submit(["c"], [1], { suffix: "-1" }),
    ];
    const settled = await settleAll(model, pending);
    expect(settled.map((result) => (result as PromiseFulfilledResult<string[]>).value)).toEqual([
      ["first"],
      ["a-1"],
      ["b-2"],
      ["c-1"],
    ]);
    expect(model.calls.map((call) => [call.texts, call.options.suffix])).toEqual([
      [["first"], ""],
      [["a", "c"], "-1"],
      [["b"], "-2"],
    ]);
  });

  it("gives every request its own call when merging is off", async () => {
    const model = fakeModel();
    const batcher = new Batcher(model.run, { ...defaults, merge: false }, () => {});
    await settleAll(
      model,
      ["a", "b", "c"].map((text) => batcher.submit([text], [1], { suffix: "" })),
    );
    expect(model.calls.map((call) => call.texts)).toEqual([["a"], ["b"], ["c"]]);
  });

  it("refuses requests beyond the limit with an overloaded error, and admits again once answered", async () => {
    const model = fakeModel();
    const batcher = new Batcher(model.run, { ...defaults, maxRequests: 2 }, () => {});
    const admitted = [batcher.submit(["a"], [1], { suffix: "" }), batcher.submit(["b"], [1], { suffix: "" })];
    const refused = await batcher.submit(["c"], [1], { suffix: "" }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).status).toBe(429);
    expect(batcher.inFlight).toBe(2);
    await settleAll(model, admitted);
    const again = batcher.submit(["d"], [1], { suffix: "" });
    await settleAll(model, [again]);
    expect(await again).toEqual(["d"]);
  });

  it("isolates a failing request: the requests merged with it still get their results", async () => {
    const model = fakeModel();
    const batcher = new Batcher(model.run, defaults, () => {});
    const pending = [["first"], ["good"], ["bad"], ["also good"]].map((texts) =>
      batcher.submit(texts, [1], { suffix: "." }),
    );
    const settled = await settleAll(model, pending);
    expect(settled.map((result) => result.status)).toEqual(["fulfilled", "fulfilled", "rejected", "fulfilled"]);
    expect((settled[1] as PromiseFulfilledResult<string[]>).value).toEqual(["good."]);
    expect((settled[3] as PromiseFulfilledResult<string[]>).value).toEqual(["also good."]);
    expect((settled[2] as PromiseRejectedResult).reason).toBeInstanceOf(RangeError);
  });

  it("rejects a model call that returns the wrong number of results instead of mixing them up", async () => {
    const batcher = new Batcher(
      async (texts: string[]) => texts.slice(1),
      defaults,
      () => {},
    );
    await expect(batcher.submit(["a", "b"], [1, 1], {})).rejects.toThrow(/returned 1 results for 2 inputs/);
  });

  it("close() waits for admitted requests and refuses new ones", async () => {
    const model = fakeModel();
    const batcher = new Batcher(model.run, defaults, () => {});
    const admitted = batcher.submit(["a"], [1], { suffix: "" });
    let closed = false;
    const closing = batcher.close().then(() => (closed = true));
    const late = await batcher.submit(["b"], [1], { suffix: "" }).catch((error: unknown) => error);
    expect((late as ApiError).status).toBe(503);
    expect(closed).toBe(false);
    await settleAll(model, [admitted]);
    await closing;
    expect(closed).toBe(true);
    expect(await admitted).toEqual(["a"]);
  });
});
