/** The admin home page (Envoy's `/`): every path with its help; mutating ones as POST buttons. */
export function indexPage(help: Record<string, string>, mutating: ReadonlySet<string>): string {
  const rows = Object.keys(help)
    .sort()
    .map((path) => {
      const link = mutating.has(path)
        ? `<form action="${escape(path)}" method="post"><button type="submit">${escape(path)}</button></form>`
        : `<a href="${escape(path)}">${escape(path)}</a>`;
      return `<tr><td>${link}</td><td>${escape(help[path])}</td></tr>`;
    })
    .join('\n');
  return `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Legate Admin</title></head><body>\n<h1>Legate admin</h1>\n<table>\n<thead><tr><th>Command</th><th>Description</th></tr></thead>\n<tbody>\n${rows}\n</tbody>\n</table>\n</body></html>\n`;
}

/** The same list as text (Envoy's 404 page and `/help`). */
export function helpText(help: Record<string, string>): string {
  return Object.keys(help)
    .sort()
    .map((path) => `  ${path}: ${help[path]}\n`)
    .join('');
}

function escape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
