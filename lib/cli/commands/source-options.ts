import { Command, Option } from "commander";
import { parseLayerOption, parseWindowOption } from "../layer-option.js";

/** Options every line-oriented command shares: where texts come from and where results go. */
export function addSourceOptions(command: Command): Command {
  return command
    .option("-i, --input <file>", "input file, one text per line; - reads standard input", "-")
    .option("--text <text...>", "embed these texts instead of reading a file")
    .option("-o, --output <file>", "output file (default: standard output)")
    .option("--skip-empty", "leave empty lines out instead of failing on them", false)
    .addOption(new Option("--chunk <lines>", "lines read ahead and embedded together").argParser((v) => Number.parseInt(v, 10)).default(512));
}

export function layersOption(): Option {
  return new Option("--layers <spec>", "hidden states to use: -1, 3,4,5,6, last4, last4:concat, 4,5,6:mix=0.2,0.3,0.5:gamma=1 (default: model output)").argParser(parseLayerOption);
}

export function windowOption(): Option {
  return new Option("--window <size[:stride]>", "split long inputs into overlapping windows of SIZE tokens instead of truncating").argParser(parseWindowOption);
}
