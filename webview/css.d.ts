/** esbuild loads .css files as text (scripts/build.mjs): the panel injects them itself. */
declare module "*.css" {
  const text: string;
  export default text;
}
