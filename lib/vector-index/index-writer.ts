// How a build writes a table: rows gathered into commits of their own size (apart from how
// many inputs are embedded at once: each LanceDB commit writes new files, so small ones pile up
// fragments), the table compacted every few commits and once at the end, and inputs seen twice
// counted so that the build can say how many rows it replaced.
import { requireInteger } from "../util/validate.js";
import type { IndexRow, VectorIndex } from "./vector-index.js";

export interface IndexWriterOptions {
  /** rows per commit; default 8192 */
  commitRows?: number;
  /** compact the table (and fold new rows into its indexes) after this many commits; default 16 */
  compactEvery?: number;
  /**
   * The column that names each input's rows (phrase rows: "passage"): an input written again
   * replaces all its rows, and the ones its new rows lack are deleted in the same commit.
   */
  replaceBy?: string;
}

export interface IndexWriterSummary {
  /** rows in the table */
  rows: number;
  /** data fragments after the final compaction */
  fragments: number;
  ann: "built" | "updated" | "none";
  /** inputs written more than once in this build: how many, their extra rows, and one of them */
  duplicates: { inputs: number; rows: number; example?: string };
}

export const defaultCommitRows = 8192;
export const defaultCompactEvery = 16;

export class IndexWriter {
  private pending: IndexRow[] = [];
  private pendingInputs: string[] = [];
  private commits = 0;
  private readonly seen = new Set<string>();
  private readonly repeated = new Set<string>();
  private repeatedRows = 0;
  private readonly commitRows: number;
  private readonly compactEvery: number;

  constructor(
    readonly index: VectorIndex,
    private readonly options: IndexWriterOptions = {},
  ) {
    this.commitRows = requireInteger(options.commitRows ?? defaultCommitRows, "commitRows", 1);
    this.compactEvery = requireInteger(options.compactEvery ?? defaultCompactEvery, "compactEvery", 1);
  }

  /** Queues the rows of one input, named by `input` (its id, or a passage's); commits once enough are queued. */
  async write(input: string, rows: readonly IndexRow[]): Promise<void> {
    if (this.seen.has(input)) {
      this.repeated.add(input);
      this.repeatedRows += rows.length;
    } else this.seen.add(input);
    this.pending.push(...rows);
    this.pendingInputs.push(input);
    if (this.pending.length >= this.commitRows) await this.flush();
  }

  /** Commits the queued rows. */
  async flush(): Promise<void> {
    if (this.pendingInputs.length === 0) return;
    const rows = this.pending;
    const inputs = this.pendingInputs;
    this.pending = [];
    this.pendingInputs = [];
    const { replaceBy } = this.options;
    await this.index.add(rows, replaceBy === undefined ? undefined : { column: replaceBy, values: inputs });
    if (++this.commits % this.compactEvery === 0) await this.index.optimize();
  }

  /**
   * Commits what is queued, makes the table if nothing was written, compacts it, and builds or
   * updates its ANN index once it has `annThreshold` rows.
   */
  async finish(annThreshold: number): Promise<IndexWriterSummary> {
    await this.flush();
    await this.index.ensureTable();
    await this.index.optimize();
    const ann = await this.index.updateAnnIndex(annThreshold);
    const [example] = this.repeated;
    return {
      rows: await this.index.count(),
      fragments: await this.index.fragments(),
      ann,
      duplicates: {
        inputs: this.repeated.size,
        rows: this.repeatedRows,
        ...(example === undefined ? {} : { example }),
      },
    };
  }
}
