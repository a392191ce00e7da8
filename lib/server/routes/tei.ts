// text-embeddings-inference-compatible routes: /embed, /embed_all and /tokenize.
import type { FastifyInstance } from "fastify";
import { float32ToJson } from "../../output/json.js";
import { BoundedJson, responseTooLarge } from "../bounded-json.js";
import { ApiError } from "../errors.js";
import {
  inputTexts,
  optionalBoolean,
  optionalDimensions,
  optionalString,
  promptFieldNames,
  promptFields,
  requestBody,
} from "../fields.js";
import type { RouteContext } from "./context.js";

/**
 * truncate and truncation_direction as TEI reads them. Only "Right" truncation exists: the
 * library keeps an input's first tokens, and cutting on the left cannot be done by cutting the
 * text without changing how its new first word is tokenized.
 */
function truncationFields(body: Record<string, unknown>, autoTruncate: boolean): { truncate: boolean } {
  const direction = optionalString(body.truncation_direction, "truncation_direction");
  if (direction !== undefined && direction !== "Right" && direction !== "right") {
    throw new ApiError(
      "validation",
      `truncation_direction ${JSON.stringify(direction)} is not supported: this server truncates on the right only`,
    );
  }
  return { truncate: optionalBoolean(body.truncate, "truncate", autoTruncate) };
}

const shortestTokenEntry = '{"id":0,"text":"","special":true,"start":0,"stop":0}';

export function teiRoutes(app: FastifyInstance, { service, options }: RouteContext): void {
  const common = ["inputs", "truncate", "truncation_direction", ...promptFieldNames];

  app.post("/embed", async (request, reply) => {
    const body = requestBody(request.body, [...common, "normalize", "dimensions"]);
    const texts = inputTexts(body.inputs, "inputs", options.maxClientBatch);
    const results = await service.embed({
      texts,
      ...truncationFields(body, options.autoTruncate),
      ...promptFields(body),
      normalize: optionalBoolean(body.normalize, "normalize", true),
      dimensions: optionalDimensions(body.dimensions, service.model.info.dimensions),
    });
    return reply
      .type("application/json")
      .send(`[${results.map((result) => float32ToJson(result.embedding)).join(",")}]`);
  });

  // Every token's raw hidden state, special tokens included, as TEI returns them.
  app.post("/embed_all", async (request, reply) => {
    const body = requestBody(request.body, common);
    const texts = inputTexts(body.inputs, "inputs", options.maxClientBatch);
    const results = await service.embed({
      texts,
      ...truncationFields(body, options.autoTruncate),
      ...promptFields(body),
      normalize: false,
      tokens: true,
    });
    const answer = new BoundedJson(options.maxResponseBytes, "the /embed_all answer");
    for (const [i, result] of results.entries()) {
      await answer.append(i === 0 ? "[[" : "],[");
      for (const [k, token] of result.tokens!.entries())
        await answer.append(`${k === 0 ? "" : ","}${float32ToJson(token.embedding)}`);
    }
    await answer.append("]]");
    return reply.type("application/json").send(answer.text());
  });

  // start/stop are UTF-16 indices into the input (into the prompted text when a prompt applies),
  // stop exclusive; a token's text is what it covers there, a special token's its own piece.
  // Admitted like an embedding request (it counts against --max-queue), and bounded like /embed_all.
  app.post("/tokenize", async (request, reply) => {
    const body = requestBody(request.body, ["inputs", "add_special_tokens", ...promptFieldNames]);
    const texts = inputTexts(body.inputs, "inputs", options.maxClientBatch);
    const addSpecial = optionalBoolean(body.add_special_tokens, "add_special_tokens", true);
    const prompt = promptFields(body);
    const answer = await service.batcher.admit(async () => {
      const prompted = await service.promptedTexts(texts, prompt);
      const json = new BoundedJson(options.maxResponseBytes, "the /tokenize answer");
      // The shortest entry a token can have; an answer past the limit even so is refused before its tokens are laid out.
      const tokenCount = prompted.reduce((sum, text) => sum + service.countTokens(text, addSpecial), 0);
      if (tokenCount * shortestTokenEntry.length > options.maxResponseBytes)
        throw responseTooLarge("the /tokenize answer", options.maxResponseBytes);
      for (const [i, text] of prompted.entries()) {
        await json.append(i === 0 ? "[[" : "],[");
        for (const [k, token] of service.tokenize(text, addSpecial).entries()) {
          const piece = JSON.stringify(token.special ? token.text : text.slice(token.start, token.end));
          await json.append(
            `${k === 0 ? "" : ","}{"id":${token.id},"text":${piece},"special":${token.special},"start":${token.start},"stop":${token.end}}`,
          );
        }
      }
      await json.append("]]");
      return json.text();
    });
    return reply.type("application/json").send(answer);
  });
}
