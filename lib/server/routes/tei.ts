// text-embeddings-inference-compatible routes: /embed, /embed_all and /tokenize.
import type { FastifyInstance } from "fastify";
import { float32ToJson } from "../../output/json.js";
import { BoundedJson, responseTooLarge } from "../bounded-json.js";
import { ApiError } from "../errors.js";
import { inputTexts, optionalBoolean, optionalDimensions, optionalString, requestBody } from "../fields.js";
import type { RouteContext } from "./context.js";

/**
 * truncate, truncation_direction and prompt_name as TEI reads them. Only "Right" truncation
 * exists: the library keeps an input's first tokens, and cutting on the left cannot be done by
 * cutting the text without changing how its new first word is tokenized.
 */
function truncationFields(body: Record<string, unknown>, autoTruncate: boolean): { truncate: boolean; promptName: string | undefined } {
  const direction = optionalString(body.truncation_direction, "truncation_direction");
  if (direction !== undefined && direction !== "Right" && direction !== "right") {
    throw new ApiError("validation", `truncation_direction ${JSON.stringify(direction)} is not supported: this server truncates on the right only`);
  }
  return { truncate: optionalBoolean(body.truncate, "truncate", autoTruncate), promptName: optionalString(body.prompt_name, "prompt_name") };
}

const shortestTokenEntry = '{"id":0,"text":"","special":true,"start":0,"stop":0}';

export function teiRoutes(app: FastifyInstance, { service, options }: RouteContext): void {
  const common = ["inputs", "truncate", "truncation_direction", "prompt_name"];

  app.post("/embed", async (request, reply) => {
    const body = requestBody(request.body, [...common, "normalize", "dimensions"]);
    const texts = inputTexts(body.inputs, "inputs", options.maxClientBatch);
    const results = await service.embed({
      texts,
      ...truncationFields(body, options.autoTruncate),
      normalize: optionalBoolean(body.normalize, "normalize", true),
      dimensions: optionalDimensions(body.dimensions, service.model.info.dimensions),
    });
    return reply.type("application/json").send(`[${results.map((result) => float32ToJson(result.embedding)).join(",")}]`);
  });

  // Every token's raw hidden state, special tokens included, as TEI returns them.
  app.post("/embed_all", async (request, reply) => {
    const body = requestBody(request.body, common);
    const texts = inputTexts(body.inputs, "inputs", options.maxClientBatch);
    const results = await service.embed({ texts, ...truncationFields(body, options.autoTruncate), normalize: false, tokens: true });
    const answer = new BoundedJson(options.maxResponseBytes, "the /embed_all answer");
    for (const [i, result] of results.entries()) {
      await answer.append(i === 0 ? "[[" : "],[");
      for (const [k, token] of result.tokens!.entries()) await answer.append(`${k === 0 ? "" : ","}${float32ToJson(token.embedding)}`);
    }
    await answer.append("]]");
    return reply.type("application/json").send(answer.text());
  });

  // start/stop are UTF-16 indices into the input (into the prompted text with prompt_name), stop
  // exclusive; a token's text is what it covers there, a special token's its own piece. Admitted
  // like an embedding request (it counts against --max-queue), and bounded like /embed_all.
  app.post("/tokenize", async (request, reply) => {
    const body = requestBody(request.body, ["inputs", "add_special_tokens", "prompt_name"]);
    const texts = inputTexts(body.inputs, "inputs", options.maxClientBatch);
    const addSpecial = optionalBoolean(body.add_special_tokens, "add_special_tokens", true);
    const promptName = optionalString(body.prompt_name, "prompt_name");
    const answer = await service.batcher.admit(async () => {
      const json = new BoundedJson(options.maxResponseBytes, "the /tokenize answer");
      // The shortest entry a token can have; an answer past the limit even so is refused before its tokens are laid out.
      const tokenCount = texts.reduce((sum, input) => sum + service.countTokens(input, { addSpecial, promptName }), 0);
      if (tokenCount * shortestTokenEntry.length > options.maxResponseBytes) throw responseTooLarge("the /tokenize answer", options.maxResponseBytes);
      for (const [i, input] of texts.entries()) {
        const { text, tokens } = service.tokenize(input, { addSpecial, promptName });
        await json.append(i === 0 ? "[[" : "],[");
        for (const [k, token] of tokens.entries()) {
          const piece = JSON.stringify(token.special ? token.text : text.slice(token.start, token.end));
          await json.append(`${k === 0 ? "" : ","}{"id":${token.id},"text":${piece},"special":${token.special},"start":${token.start},"stop":${token.end}}`);
        }
      }
      await json.append("]]");
      return json.text();
    });
    return reply.type("application/json").send(answer);
  });
}
