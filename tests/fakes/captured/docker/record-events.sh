set -e
T0=$(date +%s)
C=wb-evtest-sleeper-1
L="--label com.docker.compose.project=wb-evtest --label com.docker.compose.service=sleeper --label com.docker.compose.oneoff=False"
docker create --name $C $L --health-cmd true --health-interval 1s debian:bookworm-slim sleep 300 >/dev/null
docker start $C >/dev/null
sleep 2
docker exec $C true
docker pause $C >/dev/null
docker unpause $C >/dev/null
docker kill --signal KILL $C >/dev/null
docker start $C >/dev/null
docker restart --time 1 $C >/dev/null
docker stop --time 1 $C >/dev/null
docker start $C >/dev/null
docker kill --signal INT $C >/dev/null || true
docker rm --force --volumes $C >/dev/null
sleep 1
T1=$(date +%s)
curl -s --unix-socket /var/run/docker.sock -G "http://docker/v1.41/events" --data-urlencode "since=$T0" --data-urlencode "until=$T1" --data-urlencode 'filters={"label":["com.docker.compose.project=wb-evtest"],"type":["container"]}' > events.jsonl
wc -l events.jsonl
