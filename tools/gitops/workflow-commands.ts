// GitHub Actions workflow commands: annotations on the run page and the job summary. Outside
// Actions the annotation is still one readable line and the summary is skipped.
import * as fs from "node:fs";

/** Escapes a message the way the runner expects (% \r \n), so a reason stays one annotation. */
export function escapeData(text: string): string {
  return text.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, "%3A").replace(/,/g, "%2C");
}

export function annotationLine(level: "error" | "warning" | "notice", title: string, message: string): string {
  return `::${level} title=${escapeProperty(title)}::${escapeData(message)}`;
}

export function annotate(level: "error" | "warning" | "notice", title: string, message: string): void {
  process.stdout.write(annotationLine(level, title, message) + "\n");
}

/** Appends Markdown to the job summary when running in Actions. */
export function summarize(markdown: string, env: NodeJS.ProcessEnv = process.env): void {
  const file = env.GITHUB_STEP_SUMMARY;
  if (file) fs.appendFileSync(file, markdown.endsWith("\n") ? markdown : markdown + "\n");
}
