// ctxembed/vector-index: vector indexes on LanceDB, apart from the main entry point so that
// `import "ctxembed"` does not load LanceDB.
export { columnTypes, type ColumnType } from "./columns.js";
export {
  defaultCommitRows,
  defaultCompactEvery,
  IndexWriter,
  type IndexWriterOptions,
  type IndexWriterSummary,
} from "./index-writer.js";
export {
  IndexFilterError,
  IndexOpenError,
  openIndex,
  VectorIndex,
  type IndexHit,
  type IndexRow,
  type IndexSearchOptions,
  type OpenIndexOptions,
} from "./vector-index.js";
export { embedIndexQuery, searchIndex, type IndexQuery } from "./query.js";
export {
  defaultAnnThreshold,
  IndexModelMismatchError,
  indexKinds,
  maxK,
  type IndexKind,
  type IndexModel,
  type IndexSettings,
} from "./settings.js";
export { WriterLockError } from "./writer-lock.js";
