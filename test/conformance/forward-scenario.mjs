// The client command the conformance suite starts in `pnpm test`: it hands the scenario to the
// test's runner (Brook's MCP connection, loaded once), so that each scenario starts in
// milliseconds instead of loading Brook's sources again.
const runner = process.env.BROOK_CONFORMANCE_RUNNER;
const response = await fetch(runner, {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({
    url: process.argv[2],
    scenario: process.env.MCP_CONFORMANCE_SCENARIO,
    context: process.env.MCP_CONFORMANCE_CONTEXT,
  }),
});
const text = await response.text();
if (text !== "") console.error(text);
process.exit(response.ok ? 0 : 1);
