// PromptEOL demonstrations for the STS experiment, the fixed pool and the retrieval pool alike.
//
// Written by us for ctxembed, not taken from any data set: sentences from STS-B or WiC would leak
// evaluation data into the prompts (test/model/prompts/prompteol-leakage.test.ts checks that none occurs in STS-B
// train/dev or WiC). That also rules out the paper's own demonstration, `A jockey riding a
// horse.` → `Equestrian`, which is a sentence of STS-B train.
//
// One everyday sentence per line with the single word it "means", capitalised as in the paper's
// demonstration, two per topic over twelve topics so that retrieval has something to choose from.
import type { Demonstration } from "./templates.js";

export const promptEolDemonstrations: readonly Demonstration[] = Object.freeze(
  (
    [
      // sports
      ["The goalkeeper dived to his left and kept the penalty out of the net.", "Save"],
      ["Two climbers roped together inched their way up the frozen waterfall.", "Climbing"],
      // weather
      ["Dark clouds rolled in and the first heavy drops hit the windows.", "Rain"],
      ["Snow drifted against the doors all night and every school stayed closed.", "Blizzard"],
      // food
      ["She kneaded the dough, let it rise twice and baked two crusty loaves.", "Baking"],
      ["The chef pressed slices of raw salmon onto small mounds of vinegared rice.", "Sushi"],
      // finance
      ["The central bank raised its key interest rate by half a percentage point.", "Tightening"],
      ["Share prices tumbled after the report and the index closed at a twelve-month low.", "Selloff"],
      // animals
      ["A pod of dolphins leapt through the wake of the fishing boat.", "Dolphins"],
      ["The old dog curled up on the rug in front of the crackling fire.", "Comfort"],
      // music
      ["The orchestra fell silent as the conductor raised her baton.", "Concert"],
      ["He strummed a few chords and everyone around the campfire joined the chorus.", "Singalong"],
      // travel
      ["We missed our connecting flight and spent the night on airport benches.", "Stranded"],
      ["The backpackers checked into a cheap hostel near the old town square.", "Lodging"],
      // politics
      ["Voters queued outside the polling station long before it opened.", "Election"],
      ["The senator's bill was voted down by a margin of three votes.", "Defeat"],
      // science
      ["The telescope caught the faint light of a galaxy billions of years old.", "Astronomy"],
      ["The chemist mixed the two clear solutions and the flask turned bright blue.", "Reaction"],
      // emotions
      ["She read the acceptance letter twice and burst into happy tears.", "Joy"],
      ["He paced the hospital corridor, glancing at the clock every minute.", "Anxiety"],
      // technology
      ["The laptop froze again, and restarting it wiped out an hour of unsaved work.", "Crash"],
      ["The new phone unlocks as soon as it recognises its owner's face.", "Biometrics"],
      // health
      ["The nurse cleaned the cut on the boy's knee and wrapped it in a bandage.", "Treatment"],
      ["After months of physiotherapy she finally walked without crutches.", "Recovery"],
    ] as const
  ).map(([query, response]) => Object.freeze({ query, response })),
);
