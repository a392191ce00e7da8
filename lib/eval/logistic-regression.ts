// Binary logistic regression fitted by Newton's method (iteratively reweighted least squares)
// with an L2 penalty, on standardised features: deterministic, exact to convergence, and fast
// for the handful to few hundred features the WiC classifier uses.

export interface LogisticModel {
  /** per-feature mean and standard deviation used to standardise inputs */
  means: number[];
  scales: number[];
  /** weights on standardised features, then the intercept */
  weights: number[];
  intercept: number;
}

/** Weighted mean and standard deviation of each column (weighting them too keeps a row of weight 2 the same as two copies). */
function standardiser(rows: readonly number[][], rowWeights: readonly number[]): { means: number[]; scales: number[] } {
  const width = rows[0]!.length;
  const total = rowWeights.reduce((a, b) => a + b, 0) || 1;
  const weightedMean = (value: (row: readonly number[]) => number) =>
    rows.reduce((sum, row, i) => sum + rowWeights[i]! * value(row), 0) / total;
  const means = Array.from({ length: width }, (_, j) => weightedMean((row) => row[j]!));
  const scales = means.map((mean, j) => Math.sqrt(weightedMean((row) => (row[j]! - mean) ** 2)) || 1);
  return { means, scales };
}

/** Solves the symmetric positive definite system A x = b (Cholesky; A is row-major n x n, overwritten). */
function solveSpd(a: Float64Array, b: Float64Array, n: number): Float64Array {
  for (let j = 0; j < n; j++) {
    let diagonal = a[j * n + j]!;
    for (let k = 0; k < j; k++) diagonal -= a[j * n + k]! ** 2;
    const root = Math.sqrt(Math.max(diagonal, 1e-12));
    a[j * n + j] = root;
    for (let i = j + 1; i < n; i++) {
      let value = a[i * n + j]!;
      for (let k = 0; k < j; k++) value -= a[i * n + k]! * a[j * n + k]!;
      a[i * n + j] = value / root;
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let value = b[i]!;
    for (let k = 0; k < i; k++) value -= a[i * n + k]! * y[k]!;
    y[i] = value / a[i * n + i]!;
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let value = y[i]!;
    for (let k = i + 1; k < n; k++) value -= a[k * n + i]! * x[k]!;
    x[i] = value / a[i * n + i]!;
  }
  return x;
}

export interface LogisticOptions {
  l2?: number;
  iterations?: number;
  /** how much each row counts in the likelihood (default 1 each): a row of weight 2 counts as two copies of it */
  rowWeights?: readonly number[];
}

export function fitLogistic(
  rows: readonly number[][],
  labels: readonly boolean[],
  options: LogisticOptions = {},
): LogisticModel {
  if (rows.length === 0 || rows.length !== labels.length)
    throw new RangeError(`need as many labels as rows (${rows.length}, ${labels.length}), at least one`);
  const rowWeights = options.rowWeights ?? rows.map(() => 1);
  if (rowWeights.length !== rows.length || rowWeights.some((w) => !(w >= 0 && Number.isFinite(w)))) {
    throw new RangeError(`rowWeights must be ${rows.length} finite non-negative numbers`);
  }
  const { means, scales } = standardiser(rows, rowWeights);
  const width = means.length;
  const n = width + 1; // the intercept is the last coefficient and is not penalised
  const x = rows.map((row) => [...row.map((value, j) => (value - means[j]!) / scales[j]!), 1]);
  const l2 = options.l2 ?? 1;
  const beta = new Float64Array(n);
  for (let iteration = 0; iteration < (options.iterations ?? 25); iteration++) {
    const gradient = new Float64Array(n);
    const hessian = new Float64Array(n * n);
    x.forEach((row, i) => {
      const p = 1 / (1 + Math.exp(-row.reduce((sum, value, j) => sum + value * beta[j]!, 0)));
      const residual = rowWeights[i]! * ((labels[i] ? 1 : 0) - p);
      const weight = rowWeights[i]! * Math.max(p * (1 - p), 1e-9);
      for (let j = 0; j < n; j++) {
        gradient[j]! += residual * row[j]!;
        for (let k = 0; k <= j; k++) hessian[j * n + k]! += weight * row[j]! * row[k]!;
      }
    });
    for (let j = 0; j < width; j++) {
      gradient[j]! -= l2 * beta[j]!;
      hessian[j * n + j]! += l2;
    }
    for (let j = 0; j < n; j++) for (let k = j + 1; k < n; k++) hessian[j * n + k] = hessian[k * n + j]!;
    const step = solveSpd(hessian, gradient, n);
    step.forEach((delta, j) => (beta[j]! += delta));
    if (Math.max(...step.map(Math.abs)) < 1e-8) break;
  }
  return { means, scales, weights: Array.from(beta.subarray(0, width)), intercept: beta[width]! };
}

export function predictProbability(model: LogisticModel, row: readonly number[]): number {
  const z = row.reduce(
    (sum, value, j) => sum + ((value - model.means[j]!) / model.scales[j]!) * model.weights[j]!,
    model.intercept,
  );
  return 1 / (1 + Math.exp(-z));
}
