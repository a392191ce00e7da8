import { describe, expect, it } from "vitest";
import { parseLayerOption, parseWindowOption } from "../../../lib/cli/layer-option.js";
import { combineLayers, planLayers } from "../../../lib/embedding/layers.js";

describe("--layers syntax", () => {
  it.each([
    ["-1", -1],
    ["3,4", { layers: [3, 4] }],
    ["last4", { layers: [-4, -3, -2, -1] }],
    ["last2:concat", { layers: [-2, -1], combine: "concat" }],
    ["1,2:sum", { layers: [1, 2], combine: "sum" }],
    ["4,5,6:mix=0.1,0.2,0.7:gamma=2", { layers: [4, 5, 6], combine: { weights: [0.1, 0.2, 0.7], gamma: 2 } }],
  ])("%s", (text, spec) => expect(parseLayerOption(text)).toEqual(spec));

  it.each(["", "a,b", "1:median", "1,2:mix=x", "1:sum:gamma=2"])("rejects %j", (text) =>
    expect(() => parseLayerOption(text)).toThrow(),
  );

  it("parses windows", () => {
    expect(parseWindowOption("128")).toEqual({ size: 128 });
    expect(parseWindowOption("128:32")).toEqual({ size: 128, stride: 32 });
    expect(() => parseWindowOption("big")).toThrow();
  });
});

describe("planLayers and combineLayers", () => {
  it("resolves negative layers from the top and rejects out-of-range ones", () => {
    expect(planLayers(-1, 6).layers).toEqual([6]);
    expect(planLayers({ layers: [-7, 3] }, 6).layers).toEqual([0, 3]);
  });

  it("rejects duplicates, empty lists and bad mixes", () => {
    expect(() => planLayers(7, 6)).toThrow(/layers 0 \(embeddings\) to 6/);
    expect(() => planLayers({ layers: [1, 1] }, 6)).toThrow(/twice/);
    expect(() => planLayers({ layers: [] }, 6)).toThrow(/empty/);
    expect(() => planLayers({ layers: [1, 2], combine: { weights: [1] } }, 6)).toThrow(/one finite weight per layer/);
  });

  // two layers, two tokens, hidden size 2, laid out [layer][token][hidden]
  const states = Float32Array.from([1, 2, 3, 4, /* layer b */ 10, 20, 30, 40]);

  it.each([
    [{ layers: [1, 2], combine: "mean" }, [5.5, 11, 16.5, 22]],
    [{ layers: [1, 2], combine: "sum" }, [11, 22, 33, 44]],
    [{ layers: [1, 2], combine: "concat" }, [1, 2, 10, 20, 3, 4, 30, 40]],
    [{ layers: [1, 2], combine: { weights: [0, 0], gamma: 2 } }, [11, 22, 33, 44]],
  ] as const)("combines %j", (spec, expected) => {
    const plan = planLayers(spec, 6);
    expect(Array.from(combineLayers(states, 2, 2, plan, 0, 2))).toEqual(expected);
  });

  it("reads only the requested tokens of the batch", () => {
    expect(Array.from(combineLayers(states, 2, 2, planLayers({ layers: [1, 2], combine: "sum" }, 6), 1, 1))).toEqual([
      33, 44,
    ]);
  });
});
