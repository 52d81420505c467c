# nov/02/2026 09:01:07 by RouterOS 6.48.6
# software id = 2B9C-HH7T
#
# model = CCR1009-7G-1C-1S+
/interface bridge add name=bridge-hotspot
/interface ethernet set [ find default-name=ether1 ] comment="ISP Lintasarta"
/interface eoip add ipsec-secret=Eoip-Tunnel-Key-3 local-address=192.0.2.1 name=eoip-kecamatan remote-address=192.0.2.9 tunnel-id=7
/interface pptp-client add connect-to=203.0.113.20 disabled=no name=pptp-dinas password=Pptp-Dinas-41 user=kecamatan
/interface sstp-client add connect-to=vpn.kominfo.example name=sstp-kominfo password="Sstp Kominfo 2026" user=kec-utara
/interface ovpn-client add certificate=client.crt_0 connect-to=198.51.100.30 name=ovpn-pusat password=Ovpn-Pusat-88 user=kec-utara
/interface vrrp add interface=bridge-hotspot name=vrrp1 password=Vrrp-Pw7 vrid=10
/interface wireless security-profiles add authentication-types=wpa2-psk,wpa2-eap mode=dynamic-keys mschapv2-password=Eap-Mschap-31 mschapv2-username=ap-kec name=profile-eap supplicant-identity="" wpa2-pre-shared-key=Kecamatan-Wifi-12
/ip hotspot user add name=operator password=Operator-Hs-2 profile=default
/ip hotspot user add comment="sandi lama Operator-Hs-2" name=operator2 password="" profile=default
/ip ipsec identity add peer=kominfo secret=Ipsec-Identity-77
/ip ipsec peer add address=198.51.100.40/32 name=kominfo
/ip smb users add name=arsip password=Smb-Arsip-5 read-only=no
/ppp secret add name=sekcam password=Ppp-Sekcam-19 profile=default-encryption service=l2tp
/radius add address=10.20.0.2 secret=Radius-Kec-2026 service=hotspot
/routing bgp peer add name=isp remote-address=192.0.2.254 remote-as=64500 tcp-md5-key=Bgp-Md5-Key-8
/routing ospf interface add authentication=md5 authentication-key=Ospf-Key1 interface=ether2
/snmp community set [ find default=yes ] addresses=10.20.0.0/24 name=komunitas-kec
/snmp community add addresses=10.20.0.5/32 authentication-password=Snmp3-Auth-Kec authentication-protocol=SHA1 encryption-password=Snmp3-Priv-Kec encryption-protocol=AES name=netmgr-v3 security=private
/snmp set enabled=yes trap-community=komunitas-kec trap-target=10.20.0.5 trap-version=2
/system scheduler add interval=1d name=kirim-log on-event="/tool fetch url=\"ftp://10.20.0.9/log.txt\" user=log password=Ftp-Log-Pass-4 upload=yes" start-time=03:00:00
/system identity set name=rtr-kecamatan-utara
/tool sms set port=usb1 receive-enabled=yes secret=Sms-Secret-6
