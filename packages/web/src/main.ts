// The chat UI lands here; until then the page says where the API is.
const app = document.querySelector<HTMLElement>("#app");
if (app !== null) {
  app.innerHTML = `<h1>Brook</h1><p>The streaming API is at <code>POST /chat/stream</code> and <code>/trpc</code>.</p>`;
}
