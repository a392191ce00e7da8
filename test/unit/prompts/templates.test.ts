import { describe, expect, it } from "vitest";
import {
  buildDocument,
  buildQuery,
  customPreset,
  fillTemplate,
  findPreset,
  promptPresets,
  type Demonstration,
} from "../../../lib/prompts/templates.js";

const task = "Given a web search query, retrieve relevant passages that answer the query";
const twoExamples: Demonstration[] = [
  { query: "what is a jib?", response: "A triangular sail in front of the mast." },
  { query: "define lee shore", response: "A shore the wind blows towards." },
];

describe("prompt presets", () => {
  it("are the five known formats, each with its pooling and end-of-sequence rule", () => {
    expect(
      Object.fromEntries(
        Object.values(promptPresets).map(({ name, pooling, appendEos }) => [name, { pooling, appendEos }]),
      ),
    ).toEqual({
      "qwen3-embedding": { pooling: "last", appendEos: true },
      "e5-mistral": { pooling: "last", appendEos: true },
      "gte-qwen2": { pooling: "last", appendEos: false },
      "bge-en-icl": { pooling: "last", appendEos: false },
      prompteol: { pooling: "last", appendEos: false },
    });
  });

  it("build instruction queries byte for byte, and leave documents as they are", () => {
    expect(buildQuery(findPreset("qwen3-embedding"), { task, query: "capital of China?" })).toBe(
      `Instruct: ${task}\nQuery:capital of China?`,
    );
    expect(buildQuery(findPreset("e5-mistral"), { task, query: "capital of China?" })).toBe(
      `Instruct: ${task}\nQuery: capital of China?`,
    );
    expect(buildQuery(findPreset("gte-qwen2"), { task, query: "capital of China?" })).toBe(
      `Instruct: ${task}\nQuery: capital of China?`,
    );
    for (const name of ["qwen3-embedding", "e5-mistral", "gte-qwen2", "bge-en-icl"]) {
      expect(buildDocument(findPreset(name), "Beijing is the capital of China.")).toBe(
        "Beijing is the capital of China.",
      );
    }
  });

  it("build bge-en-icl queries with and without demonstrations", () => {
    const bge = findPreset("bge-en-icl");
    expect(buildQuery(bge, { task, query: "what is a halyard?" })).toBe(
      `<instruct>${task}\n<query>what is a halyard?\n<response>`,
    );
    expect(buildQuery(bge, { task, query: "what is a halyard?", examples: [] })).toBe(
      `<instruct>${task}\n<query>what is a halyard?\n<response>`,
    );
    expect(buildQuery(bge, { task, query: "what is a halyard?", examples: twoExamples })).toBe(
      `<instruct>${task}\n<query>what is a jib?\n<response>A triangular sail in front of the mast.` +
        `\n\n<instruct>${task}\n<query>define lee shore\n<response>A shore the wind blows towards.` +
        `\n\n<instruct>${task}\n<query>what is a halyard?\n<response>`,
    );
  });

  it("build PromptEOL prompts for queries and documents, demonstrations running straight into the prompt", () => {
    const prompteol = findPreset("prompteol");
    expect(buildQuery(prompteol, { query: "A cat sleeps." })).toBe(
      'This sentence : "A cat sleeps." means in one word:"',
    );
    expect(buildDocument(prompteol, "A cat sleeps.")).toBe('This sentence : "A cat sleeps." means in one word:"');
    expect(
      buildQuery(prompteol, { query: "A cat sleeps.", examples: [{ query: "It is pouring.", response: "Rain" }] }),
    ).toBe(
      'This sentence : "It is pouring." means in one word:"Rain".This sentence : "A cat sleeps." means in one word:"',
    );
    expect(
      buildQuery(prompteol, {
        query: "A cat sleeps.",
        examples: [
          { query: "It is pouring.", response: "Rain" },
          { query: "We won!", response: "Victory" },
        ],
      }),
    ).toBe(
      'This sentence : "It is pouring." means in one word:"Rain".This sentence : "We won!" means in one word:"Victory".' +
        'This sentence : "A cat sleeps." means in one word:"',
    );
  });

  it("reject a task, demonstrations or a missing task where the template has no place for them", () => {
    expect(() => buildQuery(findPreset("prompteol"), { task, query: "A cat sleeps." })).toThrow(
      /no placeholder \{task\}/,
    );
    expect(() => buildQuery(findPreset("qwen3-embedding"), { query: "capital?" })).toThrow(
      /needs a value for its placeholder \{task\}/,
    );
    expect(() => buildQuery(findPreset("bge-en-icl"), { query: "q", examples: twoExamples })).toThrow(/\{task\}/);
    expect(() => buildQuery(findPreset("e5-mistral"), { task, query: "q", examples: twoExamples })).toThrow(
      /"e5-mistral" takes no demonstrations/,
    );
    expect(() =>
      buildQuery(findPreset("bge-en-icl"), { task, query: "q", examples: [{ query: "x", answer: "y" } as never] }),
    ).toThrow(/examples\[0\]/);
  });

  it("are found by name, and an unknown name lists the known ones", () => {
    expect(findPreset("prompteol")).toBe(promptPresets.prompteol);
    expect(() => findPreset("toString")).toThrow(
      /unknown prompt preset "toString"; known presets: qwen3-embedding, e5-mistral, gte-qwen2, bge-en-icl, prompteol/,
    );
  });

  it("cannot be changed", () => {
    expect(Object.isFrozen(promptPresets)).toBe(true);
    expect(Object.isFrozen(findPreset("bge-en-icl"))).toBe(true);
  });
});

describe("fillTemplate", () => {
  it("fills every placeholder, as often as it appears, and reads {{ and }} as braces", () => {
    expect(fillTemplate("{a}-{b}-{a}", { a: "x", b: "y" })).toBe("x-y-x");
    expect(fillTemplate('{{"json": "{value}"}}', { value: "v" })).toBe('{"json": "v"}');
    expect(fillTemplate("{{{value}}}", { value: "v" })).toBe("{v}");
    expect(fillTemplate("no slots", {})).toBe("no slots");
    expect(fillTemplate("{a}", { a: "{b}" })).toBe("{b}");
  });

  it("names a placeholder without a value, and a value without a placeholder", () => {
    expect(() => fillTemplate("{task}: {query}", { query: "q" })).toThrow(/needs a value for its placeholder \{task\}/);
    expect(() => fillTemplate("{query}", { query: "q", task: "t" })).toThrow(/has no placeholder \{task\}/);
  });

  it.each([
    ["{", /unmatched "\{" at index 0/],
    ["a } b", /unmatched "\}" at index 2/],
    ["{a{b}", /unmatched "\{" at index 0/],
    ["{}", /malformed placeholder "\{\}"/],
    ["{two words}", /malformed placeholder/],
  ])("rejects the malformed template %j", (template, message) => {
    expect(() => fillTemplate(template, {})).toThrow(message);
  });
});

describe("customPreset", () => {
  it("builds prompts from one's own templates, with defaults for what is left out", () => {
    const preset = customPreset({
      query: "{examples}Task: {task}\nQ: {query}",
      document: "Passage: {text}",
      example: "Q: {query}\nA: {response}",
      exampleSeparator: "\n",
      examplesSuffix: "\n---\n",
    });
    expect(preset).toMatchObject({ name: "custom", pooling: "last", appendEos: false });
    expect(buildQuery(preset, { task: "answer", query: "why?", examples: twoExamples })).toBe(
      "Q: what is a jib?\nA: A triangular sail in front of the mast.\nQ: define lee shore\nA: A shore the wind blows towards.\n---\nTask: answer\nQ: why?",
    );
    expect(buildDocument(preset, "Because.")).toBe("Passage: Because.");
    expect(
      customPreset({ name: "e5-small", query: "query: {query}", document: "passage: {text}", pooling: "mean" }),
    ).toMatchObject({
      name: "e5-small",
      pooling: "mean",
    });
  });

  it.each([
    [{ query: "{question}" }, /unknown placeholder \{question\}; it may use \{task\}, \{query\}, \{examples\}/],
    [{ query: "{task}" }, /must have a \{query\} placeholder/],
    [{ query: "{query}", document: "{query}" }, /document template has an unknown placeholder \{query\}/],
    [{ query: "{query}", document: "fixed" }, /document template must have a \{text\} placeholder/],
    [{ query: "{examples}{query}" }, /\{examples\} slot exactly when there is an example template/],
    [{ query: "{query}", example: "{query}{response}" }, /\{examples\} slot exactly when there is an example template/],
    [{ query: "{examples}{query}", example: "{query}" }, /example template must have a \{response\} placeholder/],
    [
      { query: "{examples}{query}", example: "{task}{query}{response}" },
      /uses \{task\}, so the query template must too/,
    ],
    [{ query: "{query}", exampleSeparator: "\n" }, /need an example template/],
    [{ query: "{query}", pooling: "max" }, /pooling must be one of "last", "mean"/],
    [{ query: "{query}", prefix: "x" }, /no option "prefix"/],
    [{ query: "{query" }, /unmatched "\{"/],
  ])("rejects %j", (spec, message) => {
    expect(() => customPreset(spec as never)).toThrow(message);
  });
});
