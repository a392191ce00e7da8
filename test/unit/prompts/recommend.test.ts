import { describe, expect, it } from "vitest";
import { recommendPrompt } from "../../../lib/prompts/recommend.js";
import { findPreset } from "../../../lib/prompts/templates.js";

describe("recommendPrompt", () => {
  it.each([
    [["Qwen3-Embedding-0.6B"], true, "qwen3-embedding"],
    [["model", "e5-mistral-7b-instruct-Q4_K_M.gguf"], true, "e5-mistral"],
    [["gte-Qwen2-1.5B-instruct"], true, "gte-qwen2"],
    [["bge-en-icl"], true, "bge-en-icl"],
    [["Gemma 3 270m"], true, "prompteol"],
  ])("%j (causal %s) → %s, a preset that exists", (names, causal, preset) => {
    const recommended = recommendPrompt(names, causal);
    expect(recommended?.preset).toBe(preset);
    expect(findPreset(recommended!.preset).name).toBe(preset);
    expect(recommended!.because.length).toBeGreaterThan(0);
  });

  it("names the name that matched", () => {
    expect(recommendPrompt(["model", "Qwen3-Embedding-8B-f16.gguf"], true)?.because).toBe(
      'the name "Qwen3-Embedding-8B-f16.gguf" is a qwen3-embedding model\'s',
    );
  });

  it("recommends nothing for an encoder of no prompted family", () => {
    expect(recommendPrompt(["all-MiniLM-L6-v2", "all-minilm-l6-v2-f32.gguf"], false)).toBeUndefined();
  });
});
