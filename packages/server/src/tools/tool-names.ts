/** OpenAI function names: letters, digits, `_` and `-`, at most 64 characters. */
const maxLength = 64;
const separator = "__";

/** Makes a name valid for an OpenAI function (MCP names may have dots, spaces, up to 128 characters). */
export function sanitizeToolName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, maxLength);
  return cleaned === "" ? "tool" : cleaned;
}

export interface NamedTool {
  server: string;
  tool: string;
}

/**
 * Names every tool for the model: its own name with one server, `server__tool` with several.
 * Names stay unique after sanitising and cutting (a numeric suffix settles clashes), and the
 * result maps each model-facing name back to its server and tool.
 */
export function assignToolNames<T extends NamedTool>(tools: readonly T[], prefixed: boolean): Map<string, T> {
  const named = new Map<string, T>();
  for (const entry of tools) {
    const wanted = prefixed
      ? `${sanitizeToolName(entry.server)}${separator}${sanitizeToolName(entry.tool)}`
      : sanitizeToolName(entry.tool);
    let name = wanted.slice(0, maxLength);
    for (let suffix = 2; named.has(name); suffix += 1) {
      const tail = `_${suffix}`;
      name = `${wanted.slice(0, maxLength - tail.length)}${tail}`;
    }
    named.set(name, entry);
  }
  return named;
}
