"""Test doubles and local real servers: PD/Grafana fakes (HTTP), etcd and Prometheus processes."""
