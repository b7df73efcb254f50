/**
 * The --vscode-* variables a webview receives, for three themes (values of VS Code's Light
 * Modern, Dark Modern and High Contrast themes, for the variables the panel uses), plus the body
 * class VS Code sets. The test page stands in for VS Code's webview host with these.
 */

const common = {
  "--vscode-font-family": "system-ui, -apple-system, 'Segoe UI', Ubuntu, sans-serif",
  "--vscode-font-size": "13px",
};

export const THEMES = {
  light: {
    bodyClass: "vscode-light",
    vars: {
      ...common,
      "--vscode-foreground": "#3b3b3b",
      "--vscode-editor-foreground": "#3b3b3b",
      "--vscode-editor-background": "#ffffff",
      "--vscode-descriptionForeground": "#6f6f6f",
      "--vscode-charts-foreground": "#616161",
      "--vscode-charts-lines": "rgba(97, 97, 97, 0.25)",
      "--vscode-charts-red": "#e51400",
      "--vscode-charts-blue": "#1a85ff",
      "--vscode-charts-yellow": "#bf8803",
      "--vscode-charts-orange": "#d18616",
      "--vscode-charts-green": "#388a34",
      "--vscode-charts-purple": "#652d90",
      "--vscode-button-background": "#005fb8",
      "--vscode-button-foreground": "#ffffff",
      "--vscode-button-hoverBackground": "#0258a8",
      "--vscode-button-border": "rgba(0, 0, 0, 0.1)",
      "--vscode-button-secondaryBackground": "#e5e5e5",
      "--vscode-button-secondaryForeground": "#3b3b3b",
      "--vscode-button-secondaryHoverBackground": "#cccccc",
      "--vscode-input-background": "#ffffff",
      "--vscode-input-foreground": "#3b3b3b",
      "--vscode-input-border": "#cecece",
      "--vscode-dropdown-background": "#ffffff",
      "--vscode-dropdown-foreground": "#3b3b3b",
      "--vscode-dropdown-border": "#cecece",
      "--vscode-focusBorder": "#005fb8",
      "--vscode-panel-border": "#e5e5e5",
      "--vscode-widget-border": "#e5e5e5",
      "--vscode-editorWidget-background": "#f8f8f8",
      "--vscode-sideBar-background": "#f8f8f8",
      "--vscode-badge-background": "#cccccc",
      "--vscode-badge-foreground": "#3b3b3b",
      "--vscode-errorForeground": "#d32f2f",
      "--vscode-editorWarning-foreground": "#bf8803",
      "--vscode-testing-iconPassed": "#388a34",
      "--vscode-toolbar-hoverBackground": "rgba(184, 184, 184, 0.31)",
    },
  },
  dark: {
    bodyClass: "vscode-dark",
    vars: {
      ...common,
      "--vscode-foreground": "#cccccc",
      "--vscode-editor-foreground": "#cccccc",
      "--vscode-editor-background": "#1f1f1f",
      "--vscode-descriptionForeground": "#9d9d9d",
      "--vscode-charts-foreground": "#cccccc",
      "--vscode-charts-lines": "rgba(204, 204, 204, 0.2)",
      "--vscode-charts-red": "#f14c4c",
      "--vscode-charts-blue": "#3794ff",
      "--vscode-charts-yellow": "#cca700",
      "--vscode-charts-orange": "#d18616",
      "--vscode-charts-green": "#89d185",
      "--vscode-charts-purple": "#b180d7",
      "--vscode-button-background": "#0078d4",
      "--vscode-button-foreground": "#ffffff",
      "--vscode-button-hoverBackground": "#026ec1",
      "--vscode-button-border": "rgba(255, 255, 255, 0.07)",
      "--vscode-button-secondaryBackground": "#313131",
      "--vscode-button-secondaryForeground": "#cccccc",
      "--vscode-button-secondaryHoverBackground": "#3c3c3c",
      "--vscode-input-background": "#313131",
      "--vscode-input-foreground": "#cccccc",
      "--vscode-input-border": "#3c3c3c",
      "--vscode-dropdown-background": "#313131",
      "--vscode-dropdown-foreground": "#cccccc",
      "--vscode-dropdown-border": "#3c3c3c",
      "--vscode-focusBorder": "#0078d4",
      "--vscode-panel-border": "#2b2b2b",
      "--vscode-widget-border": "#313131",
      "--vscode-editorWidget-background": "#202020",
      "--vscode-sideBar-background": "#181818",
      "--vscode-badge-background": "#616161",
      "--vscode-badge-foreground": "#f8f8f8",
      "--vscode-errorForeground": "#f85149",
      "--vscode-editorWarning-foreground": "#cca700",
      "--vscode-testing-iconPassed": "#73c991",
      "--vscode-toolbar-hoverBackground": "rgba(90, 93, 94, 0.31)",
    },
  },
  "high-contrast": {
    bodyClass: "vscode-high-contrast",
    vars: {
      ...common,
      "--vscode-foreground": "#ffffff",
      "--vscode-editor-foreground": "#ffffff",
      "--vscode-editor-background": "#000000",
      "--vscode-descriptionForeground": "rgba(255, 255, 255, 0.7)",
      "--vscode-contrastBorder": "#6fc3df",
      "--vscode-charts-foreground": "#ffffff",
      "--vscode-charts-lines": "rgba(255, 255, 255, 0.5)",
      "--vscode-charts-red": "#f48771",
      "--vscode-charts-blue": "#3794ff",
      "--vscode-charts-yellow": "#ffd700",
      "--vscode-charts-orange": "#ff8c00",
      "--vscode-charts-green": "#89d185",
      "--vscode-charts-purple": "#b180d7",
      "--vscode-button-background": "#000000",
      "--vscode-button-foreground": "#ffffff",
      "--vscode-button-border": "#6fc3df",
      "--vscode-button-secondaryBackground": "#000000",
      "--vscode-button-secondaryForeground": "#ffffff",
      "--vscode-input-background": "#000000",
      "--vscode-input-foreground": "#ffffff",
      "--vscode-input-border": "#6fc3df",
      "--vscode-dropdown-background": "#000000",
      "--vscode-dropdown-foreground": "#ffffff",
      "--vscode-dropdown-border": "#6fc3df",
      "--vscode-focusBorder": "#f38518",
      "--vscode-panel-border": "#6fc3df",
      "--vscode-widget-border": "#6fc3df",
      "--vscode-editorWidget-background": "#0c141f",
      "--vscode-sideBar-background": "#000000",
      "--vscode-badge-background": "#000000",
      "--vscode-badge-foreground": "#ffffff",
      "--vscode-errorForeground": "#f48771",
      "--vscode-editorWarning-foreground": "#ffd700",
      "--vscode-testing-iconPassed": "#89d185",
    },
  },
} as const;

export type ThemeName = keyof typeof THEMES;

/**
 * The page VS Code would give the webview: theme variables on <html>, class on <body>; `script`
 * is the bundle it loads (the runs page has its own).
 */
export function pageHtml(
  theme: ThemeName,
  surface: "dashboard" | "conflicts" | "runs",
  script = "webview.js",
): string {
  const { bodyClass, vars } = THEMES[theme];
  const style = Object.entries(vars)
    .map(([k, v]) => `${k}: ${v};`)
    .join(" ");
  return `<!doctype html>
<html lang="en" style="${style}">
<head><meta charset="utf-8"><title>GradCraft dashboard</title>
<script>
  // tsx compiles the test's page.evaluate callbacks with esbuild's keepNames helper.
  window.__name = (f) => f;
  window.__posted = [];
  window.acquireVsCodeApi = () => ({
    postMessage: (m) => window.__posted.push(JSON.parse(JSON.stringify(m))),
    getState: () => JSON.parse(sessionStorage.getItem("gc-state") ?? "null"),
    setState: (s) => sessionStorage.setItem("gc-state", JSON.stringify(s)),
  });
</script>
</head>
<body class="${bodyClass}" data-surface="${surface}">
<script src="${script}"></script>
</body></html>`;
}
