// Errors the server answers with, and the two shapes clients expect them in: the
// text-embeddings-inference body {"error", "error_type"} and OpenAI's {"error": {message, type, code}}.

export type ErrorKind =
  | "malformed" // the body is not JSON or not UTF-8
  | "unauthorized"
  | "not_found"
  | "too_large"
  | "media_type"
  | "validation"
  | "overloaded"
  | "unavailable" // the server is shutting down
  | "backend";

const statusOf: Record<ErrorKind, number> = {
  malformed: 400,
  unauthorized: 401,
  not_found: 404,
  too_large: 413,
  media_type: 415,
  validation: 422,
  overloaded: 429,
  unavailable: 503,
  backend: 500,
};

/** The names text-embeddings-inference gives its error types, where it has one for the kind. */
const teiTypeOf: Partial<Record<ErrorKind, string>> = {
  validation: "validation",
  overloaded: "overloaded",
  unavailable: "unhealthy",
  backend: "backend",
};

const openAiTypeOf: Partial<Record<ErrorKind, string>> = {
  unauthorized: "authentication_error",
  overloaded: "rate_limit_error",
  unavailable: "server_error",
  backend: "server_error",
};

export class ApiError extends Error {
  readonly kind: ErrorKind;

  constructor(kind: ErrorKind, message: string) {
    super(message);
    this.name = "ApiError";
    this.kind = kind;
  }

  get status(): number {
    return statusOf[this.kind];
  }
}

/** Runs a validation step, turning the library's TypeError/RangeError into a 422 with its message. */
export function validated<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof TypeError || error instanceof RangeError || error instanceof SyntaxError)
      throw new ApiError("validation", error.message);
    throw error;
  }
}

/** OpenAI-compatible routes answer in OpenAI's error shape; every other route in TEI's. */
export type ErrorFamily = "openai" | "tei";

export function errorFamily(url: string): ErrorFamily {
  return url.startsWith("/v1/") ? "openai" : "tei";
}

export function errorBody(error: ApiError, family: ErrorFamily): object {
  if (family === "tei") return { error: error.message, error_type: teiTypeOf[error.kind] ?? error.kind };
  return {
    error: {
      message: error.message,
      type: openAiTypeOf[error.kind] ?? "invalid_request_error",
      param: null,
      code: error.kind,
    },
  };
}
