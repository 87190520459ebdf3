// The dashboard builds to dist/, which the local gateway serves and the CDK site construct deploys.
import { defineConfig } from "vite";

export default defineConfig({
  base: "/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // Each page and the charting library (ECharts, about 200 kB gzipped) are chunks of their own, loaded
    // when first shown; the shell alone is what a visit downloads first.
    chunkSizeWarningLimit: 700,
  },
  server: { port: 5173, strictPort: true },
});
