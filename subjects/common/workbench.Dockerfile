# The workbench's own image (probe, native YCSB generator, default TiKV operator). Built from the
# project's wheel and a wheelhouse made on the host: no pip against an index inside the build.
FROM debian:bookworm-slim
ENV PATH=/opt/workbench/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    DEBIAN_FRONTEND=noninteractive PYTHONUNBUFFERED=1 PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d \
 && apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \
 && python3 -m venv /opt/workbench
COPY wheelhouse /tmp/wheelhouse
RUN /opt/workbench/bin/pip install --no-index --find-links /tmp/wheelhouse -r /tmp/wheelhouse/requirements.txt \
 && /opt/workbench/bin/pip install --no-index --no-deps /tmp/wheelhouse/workbench-*.whl \
 && rm -rf /tmp/wheelhouse /root/.cache
ENTRYPOINT ["workbench"]
