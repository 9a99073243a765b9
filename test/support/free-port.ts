import { readFileSync } from "node:fs";
import { createServer } from "node:net";

/**
 * A free loopback port for a server that starts later, chosen below the kernel's ephemeral range:
 * a port from that range (what `listen(0)` gives) may meanwhile become the local end of some
 * outgoing connection, or of a client's connection to itself while it retries that very port.
 */
export async function freePort(): Promise<number> {
  const low = ephemeralLow();
  for (let attempt = 0; ; attempt += 1) {
    const candidate = 10_000 + Math.floor(Math.random() * (low - 10_000));
    const probe = createServer();
    const free = await new Promise<boolean>((resolve) => {
      probe.once("error", () => resolve(false));
      probe.listen(candidate, "127.0.0.1", () => resolve(true));
    });
    if (free) {
      await new Promise<void>((resolve) => probe.close(() => resolve()));
      return candidate;
    }
    if (attempt > 100) throw new Error("no free port below the ephemeral range");
  }
}

function ephemeralLow(): number {
  try {
    const low = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 11_000 ? low : 32_768;
  } catch {
    return 32_768;
  }
}
