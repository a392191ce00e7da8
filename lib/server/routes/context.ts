import type { EmbeddingService } from "../embedding-service.js";
import type { ResolvedServerOptions } from "../options.js";

/** What a route module needs from the server it is registered on. */
export interface RouteContext {
  service: EmbeddingService;
  options: ResolvedServerOptions;
  /** the name the server reports for its model */
  modelName: string;
}
