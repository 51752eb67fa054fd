#!/usr/bin/env bash
# Fails, naming the files, when a C++ source differs from what clang-format makes of it with the
# project's .clang-format. `tests/check_format.sh --fix` rewrites them instead.
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t sources < <(git ls-files -- '*.cc' '*.h' | grep -v '^tests/fixtures/')
if [[ "${1:-}" == "--fix" ]]; then
  clang-format -i "${sources[@]}"
  exit 0
fi
unformatted=()
for f in "${sources[@]}"; do
  clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || unformatted+=("$f")
done
if ((${#unformatted[@]})); then
  echo "check_format: ${#unformatted[@]} file(s) differ from clang-format (run tests/check_format.sh --fix):"
  printf '  %s\n' "${unformatted[@]}"
  exit 1
fi
echo "check_format: ${#sources[@]} files formatted"
