/**
 * A setting Brook cannot start with: bad values, unreadable files, a port in use. It prints as
 * one line naming each variable: `Invalid configuration: PORT: …; MCP_SERVERS (./mcp.json): …`.
 */
export class ConfigError extends Error {
  override name = "ConfigError";

  /** `variable` may carry where it points (`MCP_SERVERS (./mcp.json)`). */
  constructor(
    readonly variable: string,
    problems: string | readonly string[],
  ) {
    super(`Invalid configuration: ${variable}: ${typeof problems === "string" ? problems : problems.join("; ")}`);
  }

  /** Several variables at once (as the environment's schema finds them), in one line. */
  static many(problems: readonly { variable: string; problem: string }[]): ConfigError {
    const error = new ConfigError(problems[0]?.variable ?? "environment", problems[0]?.problem ?? "invalid");
    error.message = `Invalid configuration: ${problems.map(({ variable, problem }) => `${variable}: ${problem}`).join("; ")}`;
    return error;
  }
}
