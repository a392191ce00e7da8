export { seededRandom } from "../lib/random.js";
