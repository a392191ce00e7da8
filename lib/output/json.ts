/**
 * A float32 vector as a JSON array. Nine significant digits round-trip any float32 exactly,
 * and are about half the text of the seventeen digits a double would print.
 */
export function float32ToJson(vector: Float32Array): string {
  let text = "[";
  for (let i = 0; i < vector.length; i++) {
    if (i > 0) text += ",";
    text += String(Number(vector[i]!.toPrecision(9)));
  }
  return `${text}]`;
}
