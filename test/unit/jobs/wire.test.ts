// The wire format without Redis: a job id that no key order changes, specs and shards that fail
// their schema refused with the field named, shards that point outside their job refused, and the
// provenance and coverage checks that decide whether a part may be reused or merged.
import { describe, expect, it } from "vitest";
import { provenanceMismatch } from "../../../lib/jobs/commit.js";
import type { Manifest } from "../../../lib/jobs/manifest.js";
import { checkCoverage } from "../../../lib/jobs/merge.js";
import {
  canonicalJson,
  embedJobId,
  type EmbedJobSpec,
  parseJobSpec,
  parseShardJob,
  partFilePattern,
  partName,
  protocolVersion,
  provenanceName,
  softwareVersions,
} from "../../../lib/jobs/wire.js";

const hash = (c: string): string => c.repeat(64);

const spec: EmbedJobSpec = {
  protocol: protocolVersion,
  versions: softwareVersions,
  input: {
    path: "/data/corpus.txt",
    sha256: hash("a"),
    bytes: 1000,
    lines: 250,
    format: "text",
    field: "text",
    skipEmpty: false,
  },
  output: { directory: "/data/parts", format: "jsonl", precision: "float32" },
  model: "all-minilm-l6-v2",
  modelSha256: hash("b"),
  options: { normalize: true, truncate: true, dimensions: 64 },
  shardSize: 100,
  shardCount: 3,
  chunk: 64,
  maxLineBytes: 4096,
  shardTableSha256: hash("f"),
};

/** The same object with its keys in reverse order, at every depth. */
function reversed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversed);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value)
      .reverse()
      .map(([key, inner]) => [key, reversed(inner)]),
  );
}

describe("canonical JSON and the job id", () => {
  it("key order changes neither the text nor the id; any value does", () => {
    expect(JSON.stringify(reversed(spec))).not.toBe(JSON.stringify(spec));
    expect(canonicalJson(reversed(spec))).toBe(canonicalJson(spec));
    expect(embedJobId(reversed(spec) as EmbedJobSpec)).toBe(embedJobId(spec));
    expect(embedJobId({ ...spec, options: { ...spec.options, dimensions: 32 } })).not.toBe(embedJobId(spec));
    expect(embedJobId({ ...spec, modelSha256: hash("d") })).not.toBe(embedJobId(spec));
    // The shard count and table are derived from the rest: they are not part of the identity.
    expect(embedJobId({ ...spec, shardCount: 7 })).toBe(embedJobId(spec));
    expect(embedJobId({ ...spec, shardTableSha256: hash("0") })).toBe(embedJobId(spec));
    expect(embedJobId(spec)).toMatch(/^e[0-9a-f]{16}$/);
  });

  it("refuses what JSON cannot carry", () => {
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(/NaN/);
  });
});

describe("the job spec schema", () => {
  it("accepts a submitted spec and returns it unchanged", () => {
    expect(parseJobSpec(JSON.parse(JSON.stringify(spec)))).toEqual(spec);
  });

  it.each([
    ["an unknown precision", { output: { ...spec.output, precision: "float64" } }, /output\.precision/],
    ["an unknown format", { output: { ...spec.output, format: "exe" } }, /output\.format/],
    ["a relative output folder", { output: { ...spec.output, directory: "../x" } }, /absolute path/],
    ["a relative input", { input: { ...spec.input, path: "etc/passwd" } }, /absolute path/],
    ["an unknown key", { command: "rm -rf /" }, /Unrecognized key: "command"/],
    ["an unknown embed option", { options: { tokens: true } }, /Unrecognized key: "tokens"/],
    ["another protocol", { protocol: 1 }, /protocol/],
    ["a model sha256 that is not one", { modelSha256: "abc" }, /modelSha256/],
    ["a model name with a path in it", { model: "../../etc/passwd" }, /catalogue name or an absolute path/],
    ["a negative shard size", { shardSize: -1 }, /shardSize/],
    ["no shard table sha256", { shardTableSha256: undefined }, /shardTableSha256/],
  ])("refuses %s, naming the field", (_, change, message) => {
    expect(() => parseJobSpec({ ...spec, ...change }, "job x")).toThrow(message);
    expect(() => parseJobSpec({ ...spec, ...change }, "job x")).toThrow(
      /^refusing job x: its data is not a ctxembed job of protocol 3/,
    );
  });
});

describe("the shard schema", () => {
  it("accepts [protocol, index] of a shard of its job, and nothing more", () => {
    expect(parseShardJob([protocolVersion, 2], spec)).toBe(2);
  });

  it.each([
    ["a negative index", [protocolVersion, -5], /Too small|>=0/],
    ["a fractional index", [protocolVersion, 1.5], /int/],
    ["an index past the job's shards", [protocolVersion, 3], /index 3 is not below the job's 3 shards/],
    ["another protocol", [2, 1], /protocol 3/],
    ["an extra item (a range carried by the shard)", [protocolVersion, 1, 400], /Too big|<=2/],
    ["the object protocol 2 carried", { protocol: 2, index: 1, start: 400, end: 800 }, /expected array|tuple/],
    ["the whole spec, as protocol 1 carried it", { spec }, /expected array|tuple/],
  ])("refuses %s", (_, data, message) => {
    expect(() => parseShardJob(data, spec)).toThrow(message);
  });
});

describe("part names", () => {
  it("every name a job writes matches the one pattern; nothing that leaves the folder does", () => {
    const part = partName(spec, 42);
    for (const name of [part, provenanceName(part), "part-00042.scales.npy", "part-00042.raw.json"])
      expect(name).toMatch(partFilePattern);
    for (const name of ["../part-00042.jsonl", "part-00042.jsonl/..", "manifest.json", "part-1.jsonl"])
      expect(name).not.toMatch(partFilePattern);
  });
});

describe("provenance before reuse", () => {
  const record = {
    job: "embed-1",
    spec: hash("e"),
    index: 1,
    lines: [100, 200] as [number, number],
    model: { name: "m", sha256: hash("b") },
  };
  const expected = {
    job: "embed-1",
    spec: hash("e"),
    index: 1,
    lines: [100, 200] as [number, number],
    modelSha256: hash("b"),
  };

  it("accepts the shard's own part and names what differs in any other", () => {
    expect(provenanceMismatch(record, expected)).toBeUndefined();
    expect(provenanceMismatch({ ...record, job: "embed-2" }, expected)).toMatch(/made by job embed-2, not by this job/);
    expect(provenanceMismatch({ ...record, spec: hash("f") }, expected)).toMatch(/another spec/);
    expect(provenanceMismatch({ ...record, lines: [100, 300] }, expected)).toMatch(/lines 101-300/);
    expect(provenanceMismatch({ ...record, model: { name: "m", sha256: hash("9") } }, expected)).toMatch(
      /model file sha256 9+, not the job's b+/,
    );
  });
});

describe("coverage before merge", () => {
  const part = (index: number, first: number, end: number, rows = end - first) => ({
    index,
    name: `part-0000${index}.jsonl`,
    bytes: 1,
    sha256: hash("0"),
    lines: [first, end] as [number, number],
    rows,
  });
  const manifest = (parts: ReturnType<typeof part>[], skipEmpty = false) =>
    ({ job: "embed-1", input: { ...spec.input, skipEmpty }, parts }) as unknown as Manifest;

  it("accepts parts that hold every line once, in order", () => {
    expect(() => checkCoverage(manifest([part(0, 0, 100), part(1, 100, 200), part(2, 200, 250)]))).not.toThrow();
    expect(() =>
      checkCoverage(manifest([part(0, 0, 100, 90), part(1, 100, 200), part(2, 200, 250)], true)),
    ).not.toThrow();
  });

  it.each([
    ["a gap", [part(0, 0, 100), part(2, 200, 250)], /part 2 begins at line 201, line 101 was expected/],
    ["an overlap", [part(0, 0, 100), part(1, 50, 250)], /begins at line 51/],
    ["a short end", [part(0, 0, 100), part(1, 100, 200)], /covers lines 1-200 of the input's 250/],
    [
      "rows that are not the lines",
      [part(0, 0, 100), part(1, 100, 200, 99), part(2, 200, 250)],
      /99 rows for lines 101-200/,
    ],
  ])("refuses %s", (_, parts, message) => {
    expect(() => checkCoverage(manifest(parts))).toThrow(message);
  });
});
