// OpenAI-compatible embeddings: POST /v1/embeddings, usable with the official clients.
import type { FastifyInstance } from "fastify";
import { float32ToJson } from "../../output/json.js";
import { requireOneOf } from "../../util/validate.js";
import { validated } from "../errors.js";
import {
  inputTexts,
  optionalDimensions,
  optionalString,
  promptFieldNames,
  promptFields,
  requestBody,
} from "../fields.js";
import type { RouteContext } from "./context.js";

const encodingFormats = ["float", "base64"] as const;

/** OpenAI's base64 form: the float32 values' little-endian bytes. */
function base64Vector(vector: Float32Array): string {
  return JSON.stringify(Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString("base64"));
}

export function openAiRoutes(app: FastifyInstance, { service, options, modelName }: RouteContext): void {
  app.post("/v1/embeddings", async (request, reply) => {
    // prompt_name and role are this server's extra fields: OpenAI's clients send them as extra body fields.
    const body = requestBody(request.body, [
      "input",
      "model",
      "encoding_format",
      "dimensions",
      "user",
      ...promptFieldNames,
    ]);
    const texts = inputTexts(body.input, "input", options.maxClientBatch);
    optionalString(body.model, "model");
    optionalString(body.user, "user");
    const format =
      body.encoding_format === undefined
        ? "float"
        : validated(() => requireOneOf(body.encoding_format, "encoding_format", encodingFormats));
    const dimensions = optionalDimensions(body.dimensions, service.model.info.dimensions);
    const results = await service.embed({
      texts,
      ...promptFields(body),
      normalize: true,
      truncate: options.autoTruncate,
      dimensions,
    });
    const encode = format === "base64" ? base64Vector : float32ToJson;
    const data = results.map(
      (result, index) => `{"object":"embedding","index":${index},"embedding":${encode(result.embedding)}}`,
    );
    const tokens = results.reduce((sum, result) => sum + result.tokenCount, 0);
    const usage = `{"prompt_tokens":${tokens},"total_tokens":${tokens}}`;
    return reply
      .type("application/json")
      .send(`{"object":"list","data":[${data.join(",")}],"model":${JSON.stringify(modelName)},"usage":${usage}}`);
  });
}
