#!/usr/bin/env bash
# Maintainers only (`make vendor`): rebuild src/laminar/console/static/vendor/ from npm.
# Users and CI never run this: the built files are committed, nothing loads from a CDN.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/../src/laminar/console/static/vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$here/package.json" "$here/codemirror-entry.js" "$work/"
cd "$work"
npm install --no-audit --no-fund --silent
mkdir -p "$out"
./node_modules/.bin/esbuild codemirror-entry.js --bundle --format=esm --minify \
    --legal-comments=none --outfile="$out/codemirror.js"
./node_modules/.bin/esbuild node_modules/uplot/dist/uPlot.esm.js --format=esm --minify \
    --legal-comments=none --outfile="$out/uPlot.esm.js"
cp node_modules/uplot/dist/uPlot.min.css "$out/"
cp node_modules/uplot/LICENSE "$out/LICENSE.uplot"
cp node_modules/@codemirror/view/LICENSE "$out/LICENSE.codemirror"
{
    echo "# Vendored browser libraries of the console (built by \`make vendor\`; see vendor/)"
    echo "# name version licence"
    for p in @codemirror/state @codemirror/view @codemirror/commands @codemirror/lang-sql \
             @codemirror/autocomplete @codemirror/lint @codemirror/language @lezer/common \
             @lezer/highlight @lezer/lr style-mod w3c-keyname crelt uplot; do
        node -e "const j=require('./node_modules/$p/package.json');console.log(j.name, j.version, j.license)"
    done
    echo "# codemirror.js bundles every package above but uplot (esbuild $(./node_modules/.bin/esbuild --version), ESM, minified)"
    echo "# uPlot.esm.js is uplot's dist/uPlot.esm.js minified; uPlot.min.css its dist file"
} > "$out/VENDOR"
echo "vendored into $out"
