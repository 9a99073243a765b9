import type { ToolInfo } from "@brook/shared";
import type { ModelTool, ModelToolCall } from "../models/chat-model.js";
import { demoToolName } from "../models/demo-chat-model.js";
import type { ToolOutcome } from "./tool-registry.js";

export { demoToolName };

/** What the demo tool says it belongs to, where an MCP tool names its server. */
export const demoToolServer = "demo";

const definition: ModelTool = {
  name: demoToolName,
  description:
    "Demo mode only: pretends to delete a file, so that tool approval can be tried offline. It deletes nothing; every call waits for a person's approval.",
  parameters: {
    type: "object",
    properties: { path: { type: "string", description: "The file to (pretend to) delete." } },
    required: ["path"],
  },
};

/**
 * The tools of demo mode when no MCP server is configured: one pretend tool that always needs
 * approval, so that a newcomer sees the whole approval flow (event, web card, CLI prompt) with
 * no model server and no MCP server. It touches nothing.
 */
export class DemoTools {
  offered(selection: false | readonly string[] | null | undefined): ModelTool[] {
    if (selection === false) return [];
    return selection == null || selection.includes(demoToolName) ? [definition] : [];
  }

  approvalServer(name: string): string | undefined {
    return name === demoToolName ? demoToolServer : undefined;
  }

  async call(call: ModelToolCall, signal: AbortSignal): Promise<ToolOutcome> {
    signal.throwIfAborted();
    if (call.name !== demoToolName) return { text: `There is no tool named "${call.name}".`, isError: true };
    const path = pathOf(call.arguments);
    if (path === undefined) return { text: 'The arguments must be a JSON object with a string "path".', isError: true };
    return {
      text: `Demo: nothing was deleted. With a real MCP server's tool, "${path}" would be gone now; this call ran only because it was approved.`,
      isError: false,
    };
  }

  list(): ToolInfo[] {
    return [
      {
        name: demoToolName,
        server: demoToolServer,
        server_tool: demoToolName,
        description: definition.description,
        input_schema: definition.parameters,
        needs_approval: true,
      },
    ];
  }
}

function pathOf(text: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== "object" || parsed === null) return undefined;
    const path = (parsed as { path?: unknown }).path;
    return typeof path === "string" ? path : undefined;
  } catch {
    return undefined;
  }
}
