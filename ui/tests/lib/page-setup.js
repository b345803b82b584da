// Runs in the page before the app: Tauri IPC goes to the test's FakeBackend through an exposed function.
import { mockIPC, mockWindows } from "/__test/mocks.js";

window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
});

mockWindows("main");
mockIPC(
  async (cmd, args) => {
    const res = await window.__tidemarkBackend(cmd, args ?? {});
    if (res && "error" in res) throw res.error;
    return res ? res.ok : undefined;
  },
  { shouldMockEvents: true },
);
window.__tidemarkEmit = (event, payload) => window.__TAURI_INTERNALS__.invoke("plugin:event|emit", { event, payload });
window.__tidemarkMockReady = true;
