#!/usr/bin/env bash
# Installs everything Flint needs on a Debian machine, idempotently:
# system packages (PostgreSQL server, Java, Maven, Chromium, fonts), the Kafka jars (Maven Central),
# and a project virtualenv with every Flint package installed editable.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

need_apt=()
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need_apt+=(postgresql postgresql-contrib)
command -v psql >/dev/null 2>&1 || need_apt+=(postgresql-client)
command -v java >/dev/null 2>&1 || need_apt+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || need_apt+=(maven)
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
# Invoice PDFs and pages: DejaVu for Latin, Greek and Cyrillic, Droid Sans Fallback for CJK.
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need_apt+=(fonts-dejavu-core)
[ -f /usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf ] || need_apt+=(fonts-droid-fallback)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]} (apt)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
# Debian's package starts a cluster of its own on 5432; Flint runs its own under .flint/.

if [ ! -f deploy/kafka/target/libs/.complete ] || [ deploy/kafka/pom.xml -nt deploy/kafka/target/libs/.complete ]; then
  echo "setup: resolving Kafka from Maven Central"
  rm -rf deploy/kafka/target/libs
  mvn -q -B -f deploy/kafka/pom.xml dependency:copy-dependencies
  touch deploy/kafka/target/libs/.complete
fi

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
stamp=.venv/.flint-installed
want=$(cat requirements/*.txt $(find . -name pyproject.toml -not -path './.venv/*' | sort) | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing Python packages into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  packages=()
  for p in contracts services/chassis services/payments services/installs services/orders services/refunds services/invoicing sdk sdk/cli; do
    [ -f "$p/pyproject.toml" ] && packages+=(-e "$p")
  done
  .venv/bin/python -m pip install -q -c requirements/constraints.txt -r requirements/dev.txt "${packages[@]}"
  echo "$want" > "$stamp"
fi
echo "setup: ok"
