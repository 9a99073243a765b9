import { McpOAuthCallbackQuery, McpServerParams, routes } from "@brook/shared";
import type { FastifyInstance, FastifyReply } from "fastify";
import type { BrookServices } from "../../brook-services.js";
import { BrookError } from "../../errors/brook-error.js";
import { InputError } from "../../errors/input-error.js";
import type { McpAuthorizations } from "../../tools/mcp-authorization.js";

export interface McpConnectOptions {
  authorizations: McpAuthorizations;
  log: BrookServices["log"];
}

/**
 * Connecting an OAuth (authorization-code) MCP server, once, by a person: `POST
 * /mcp/servers/:name/connect` (with an API key, like every API route) answers the authorization
 * page; the browser comes back to `GET /mcp/oauth/callback`, which carries no key: the one-time
 * `state` of the connect request binds it. The tokens stay in Brook.
 */
export async function mcpConnectRoutes(app: FastifyInstance, { authorizations, log }: McpConnectOptions) {
  app.post(routes.mcpConnect.path, async (request, reply) => {
    const { name } = InputError.parse(McpServerParams, request.params);
    const origin = `${request.protocol}://${request.host}`;
    const { url, expiresIn } = await authorizations.begin(name, origin);
    return reply.send({ server: name, authorization_url: url, expires_in: expiresIn });
  });

  app.get(routes.mcpOAuthCallback.path, async (request, reply) => {
    const query = McpOAuthCallbackQuery.safeParse(request.query);
    if (!query.success || query.data.state === undefined) {
      return page(reply, 400, "This is not an answer to a connect request (no valid state).");
    }
    const { state, code, error, error_description: description } = query.data;
    if (error !== undefined || code === undefined) {
      const server = await authorizations.abandon(state);
      const why = error === undefined ? "no code came back" : `${error}${description ? `: ${description}` : ""}`;
      return page(reply, 400, `${server === undefined ? "The MCP server" : `"${server}"`} was not connected (${why}).`);
    }
    try {
      const server = await authorizations.finish(state, code);
      log.info(`MCP server "${server}" connected by a person (OAuth authorization code).`);
      return reply.redirect(`/?mcp_connected=${encodeURIComponent(server)}`, 303);
    } catch (failure) {
      const brookError = failure instanceof BrookError ? failure : new BrookError("internal");
      log.warn({ err: failure }, "connecting an MCP server failed");
      return page(reply, brookError.status, brookError.message);
    }
  });
}

/** A small page for the person in the browser, with the way back to the web UI. */
function page(reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply
    .status(status)
    .type("text/html; charset=utf-8")
    .header("cache-control", "no-store")
    .send(
      `<!doctype html><meta charset="utf-8"><title>Brook: MCP server not connected</title>` +
        `<p>${escapeHtml(message)}</p><p><a href="/">Back to Brook</a></p>`,
    );
}

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (character) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[character] ?? character,
  );
}
