#!/bin/sh
# pf-setup.sh: create a private, loopback-only Postfix instance for the milter tests.
# Adapted from the project's Postfix test recipe (shared docs, postfix/pf-setup.sh).
#   SMTP:   127.0.0.1:$SMTP_PORT, nothing on port 25
#   milter: smtpd_milters = inet:127.0.0.1:$MILTER_PORT, milter_default_action = tempfail
#   mail for any address @test.local is delivered by virtual(8) into the Maildir
#   $ROOT/mail/inbox/{new,cur,tmp}; log in $ROOT/log/maillog
# Needs root and the Debian postfix package (3.7). Never touches /etc/postfix or the system
# queue: config, queue, data, mail and log all live under $ROOT (an absolute path).
set -eu
ROOT=${ROOT:?set ROOT to an absolute path}
SMTP_PORT=${SMTP_PORT:?set SMTP_PORT}
MILTER_PORT=${MILTER_PORT:?set MILTER_PORT}
ETC=$ROOT/etc

mkdir -p "$ETC" "$ROOT/queue" "$ROOT/data" "$ROOT/mail" "$ROOT/log"
if [ -f /etc/postfix/master.cf ]; then
  cp /etc/postfix/master.cf "$ETC/master.cf"
else
  cp /usr/share/postfix/master.cf.dist "$ETC/master.cf"
fi
: > "$ETC/main.cf"
# mailbox base must be writable by the virtual_uid_maps uid (nobody)
chown nobody:nogroup "$ROOT/mail"
chown postfix "$ROOT/data"

P="postconf -c $ETC"
$P -e \
  "compatibility_level = 3.6" \
  "queue_directory = $ROOT/queue" \
  "data_directory = $ROOT/data" \
  "syslog_name = postfix-hdrscan-test" \
  "maillog_file_prefixes = $ROOT/log" \
  "maillog_file = $ROOT/log/maillog" \
  "myhostname = mx.test.local" \
  "mydomain = test.local" \
  "myorigin = \$myhostname" \
  "mydestination =" \
  "inet_interfaces = loopback-only" \
  "inet_protocols = ipv4" \
  "mynetworks = 127.0.0.0/8" \
  "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination" \
  "alias_maps =" "alias_database =" \
  "local_recipient_maps =" \
  "relayhost =" "default_transport = error" "relay_transport = error" \
  "virtual_mailbox_domains = test.local" \
  "virtual_mailbox_base = $ROOT/mail" \
  "virtual_mailbox_maps = static:inbox/" \
  "virtual_uid_maps = static:65534" \
  "virtual_gid_maps = static:65534" \
  "smtputf8_enable = no" \
  "smtpd_milters = inet:127.0.0.1:$MILTER_PORT" \
  "non_smtpd_milters =" \
  "milter_protocol = 6" \
  "milter_default_action = tempfail" \
  "milter_connect_timeout = 5s" \
  "milter_command_timeout = 10s" \
  "milter_content_timeout = 30s" \
  "milter_connect_macros = j {daemon_name} {daemon_addr} {client_addr} {client_name} {client_port} v _" \
  "milter_macro_defaults =" \
  "smtpd_client_connection_count_limit = 0" \
  "smtpd_client_connection_rate_limit = 0" \
  "smtpd_client_message_rate_limit = 0" \
  "anvil_rate_time_unit = 60s" \
  "default_process_limit = 100" \
  "smtpd_error_sleep_time = 0" \
  "smtpd_soft_error_limit = 1000" \
  "smtpd_hard_error_limit = 1000" \
  "in_flow_delay = 0" \
  "debug_peer_list ="

# master.cf: no chroot (avoids copying resolv.conf etc. into the queue dir),
# replace the port-25 listener by 127.0.0.1:$SMTP_PORT.
$P -F '*/*/chroot = n'
$P -MX smtp/inet
$P -M "127.0.0.1:$SMTP_PORT/inet = 127.0.0.1:$SMTP_PORT inet n - n - - smtpd"

postfix -c "$ETC" check
