#!/usr/bin/env bash
# gpu-check.sh: on a machine with NVIDIA GPUs, shows what the sidecar's NVML backend reports,
# through its Go test and through the CLI. Needs no chain. Without Go on the machine, prebuilt
# binaries are used (build them where Go is: `make build && go test -c -o build/gpu.test ./provider/gpu`),
# so the GPU machine needs only the NVIDIA driver.
#   scripts/gpu-check.sh
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
rc=0
# go-nvml opens libnvidia-ml.so.1 by name: where the driver is mounted outside the loader's
# paths (container runtimes often put it under /usr/local/nvidia), add it.
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do
  [ -e "$d/libnvidia-ml.so.1" ] && export LD_LIBRARY_PATH="$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
done
[ -d /usr/local/nvidia/bin ] && PATH=$PATH:/usr/local/nvidia/bin
echo "-- libnvidia-ml: $( (ldconfig -p 2>/dev/null | grep -o '/[^ ]*libnvidia-ml.so.1' | head -1) || true) LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
echo "-- nvidia-smi"
nvidia-smi --query-gpu=index,name,uuid,memory.total,driver_version,mig.mode.current --format=csv 2>&1 || echo "(nvidia-smi not found)"
echo "-- confidential computing (nvidia-smi conf-compute: features, environment, ready state)"
for f in -f -e -grs; do nvidia-smi conf-compute "$f" 2>&1 || true; done
echo "-- TestNVMLBackend (provider/gpu)"
if command -v go >/dev/null; then
  go test -count=1 -v -run 'TestNVMLBackend' ./provider/gpu || rc=1
  # Offline, the build may fail to fetch modules: then only a binary built before is run.
  make build >/dev/null 2>&1 || { rc=1; echo "(make build failed)"; }
else
  (cd provider/gpu && ../../build/gpu.test -test.run 'TestNVMLBackend' -test.v -test.count=1) || rc=1
fi
echo "-- computed provider gpus --backend nvml"
if [ -x build/computed ]; then
  build/computed provider gpus --backend nvml || rc=1
else
  echo "(no build/computed)"; rc=1
fi
exit $rc
