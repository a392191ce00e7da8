// Models named by their Hugging Face Hub id: `hf:OWNER/REPO[:QUANT|/PATH.gguf][@REVISION]`, the
// form node-llama-cpp and llama.cpp's `-hf` use for the repository and quantization, with a git
// revision (branch, tag or commit) after `@`.

export const hubNamePrefix = "hf:";

export interface HubModelName {
  /** `OWNER/REPO` */
  repository: string;
  /** a quantization (`Q8_0`, `f16`) matched against the repository's GGUF file names, or the type to convert to */
  quant?: string;
  /** one file of the repository, by its path */
  path?: string;
  /** a branch, tag or commit; `main` when not given */
  revision: string;
  /** the name as given */
  text: string;
}

export const defaultRevision = "main";

// huggingface_hub's validate_repo_id: word characters, '-' and '.', neither at an end, no '--' or '..', at most 96.
const repositoryPart = /^(?![-.])[\w.-]+(?<![-.])$/;
const quantPattern = /^[A-Za-z0-9_]+$/;
const commitPattern = /^[0-9a-f]{40}$/;

export function isHubName(name: string): boolean {
  return name.startsWith(hubNamePrefix);
}

export function isCommitHash(revision: string): boolean {
  return commitPattern.test(revision);
}

/** A relative path with no empty, `.` or `..` segment and no backslash or control character. */
export function isRepositoryPath(path: string): boolean {
  return (
    !/[\\\p{Cc}]/u.test(path) &&
    path.split("/").every((segment) => segment !== "" && segment !== "." && segment !== "..")
  );
}

function invalid(text: string, why: string): Error {
  return new Error(
    `invalid Hugging Face model name '${text}': ${why} (the form is hf:OWNER/REPO[:QUANT|/PATH.gguf][@REVISION])`,
  );
}

function checkRevision(text: string, revision: string): void {
  const segments = revision.split("/");
  if (revision.length === 0 || segments.some((segment) => segment === "" || segment === "." || segment === "..")) {
    throw invalid(text, `'${revision}' is not a revision`);
  }
  // Printable ASCII without git check-ref-format's forbidden characters ('@' ends the repository part, so it cannot occur).
  if (
    !/^[!-~]+$/.test(revision) ||
    /[~^:?*[\\]/.test(revision) ||
    revision.endsWith(".lock") ||
    revision.startsWith("-")
  ) {
    throw invalid(text, `revision '${revision}' is not a git branch, tag or commit`);
  }
}

/** Parses an `hf:` name; throws an error naming what is wrong. */
export function parseHubName(text: string): HubModelName {
  if (!isHubName(text)) throw invalid(text, `it does not start with ${hubNamePrefix}`);
  let rest = text.slice(hubNamePrefix.length);
  let revision = defaultRevision;
  const at = rest.lastIndexOf("@");
  if (at >= 0) {
    revision = rest.slice(at + 1);
    rest = rest.slice(0, at);
    checkRevision(text, revision);
  }
  const [owner, repo, ...pathSegments] = rest.split("/");
  let repoName = repo ?? "";
  let quant: string | undefined;
  if (pathSegments.length === 0) {
    const colon = repoName.indexOf(":");
    if (colon >= 0) {
      quant = repoName.slice(colon + 1);
      repoName = repoName.slice(0, colon);
      if (!quantPattern.test(quant)) throw invalid(text, `'${quant}' is not a quantization name such as Q8_0 or f16`);
    }
  }
  for (const part of [owner ?? "", repoName]) {
    if (!repositoryPart.test(part) || part.includes("--") || part.includes("..") || part.length > 96) {
      throw invalid(text, `'${owner ?? ""}/${repoName}' is not a repository id (OWNER/REPO)`);
    }
  }
  const name: HubModelName = { repository: `${owner}/${repoName}`, revision, text };
  if (quant !== undefined) name.quant = quant;
  if (pathSegments.length > 0) {
    const path = pathSegments.join("/");
    if (!isRepositoryPath(path)) {
      throw invalid(text, `'${path}' is not a file path in a repository`);
    }
    if (!path.toLowerCase().endsWith(".gguf")) throw invalid(text, `'${path}' is not a .gguf file`);
    name.path = path;
  }
  return name;
}

/** The name as text: `hf:OWNER/REPO[:QUANT|/PATH][@REVISION]`, the revision left out when it is `main`. */
export function formatHubName(name: Omit<HubModelName, "text">): string {
  const file = name.quant !== undefined ? `:${name.quant}` : name.path !== undefined ? `/${name.path}` : "";
  const revision = name.revision === defaultRevision ? "" : `@${name.revision}`;
  return `${hubNamePrefix}${name.repository}${file}${revision}`;
}
