#!/usr/bin/env bash
# Optional: make this box a Wi-Fi hotspot that learners join, with NetworkManager (nmcli).
# Off by default; install.sh never runs it.
#
#   sudo bash hotspot.sh [--ssid trainer] [--password PASSWORD] [--ifname wlan0]
#   sudo bash hotspot.sh --off
#
# The box then has the fixed address 10.42.0.1 on its Wi-Fi, and the name trainer.lan for
# the phones that join (answered by NetworkManager's own DNS). Learners open
# http://10.42.0.1:8080/ or http://trainer.lan:8080/. The hotspot comes back after a reboot.
set -euo pipefail

SSID=trainer
PASSWORD=""
IFNAME=wlan0
CONNECTION=trainer-hotspot
ADDRESS=10.42.0.1
NAME=trainer.lan
DNS_FILE=/etc/NetworkManager/dnsmasq-shared.d/trainer.conf

while (($#)); do
  case "$1" in
    --ssid) SSID=$2; shift 2 ;;
    --password) PASSWORD=$2; shift 2 ;;
    --ifname) IFNAME=$2; shift 2 ;;
    --off)
      nmcli connection delete "$CONNECTION" 2>/dev/null || true
      rm -f "$DNS_FILE"
      echo "The hotspot is off and removed."
      exit 0 ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "Unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
done

command -v nmcli >/dev/null || { echo "NetworkManager (nmcli) is not installed on this box." >&2; exit 1; }
if [ ${#PASSWORD} -lt 8 ]; then
  echo "Give a Wi-Fi password of 8 characters or more: --password …" >&2
  exit 1
fi
mkdir -p "$(dirname "$DNS_FILE")"
echo "address=/$NAME/$ADDRESS" > "$DNS_FILE"
nmcli connection delete "$CONNECTION" >/dev/null 2>&1 || true
nmcli connection add type wifi ifname "$IFNAME" con-name "$CONNECTION" autoconnect yes \
  ssid "$SSID" mode ap 802-11-wireless.band bg ipv4.method shared \
  ipv4.addresses "$ADDRESS/24" wifi-sec.key-mgmt wpa-psk wifi-sec.psk "$PASSWORD" >/dev/null
nmcli connection up "$CONNECTION" >/dev/null
echo "Hotspot '$SSID' is on. Learners join it, then open http://$ADDRESS:8080/ or http://$NAME:8080/"
