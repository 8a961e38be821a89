#!/usr/bin/env python3
"""Writes the audit test exports of corpus/audit/ (see README.md there). Deterministic.

Records follow Microsoft's documented unified audit log schema (Office 365 Management
Activity API: common schema + ExchangeAdmin, AzureActiveDirectory, AzureActiveDirectoryStsLogon)
and the export forms: Purview CSV (CreationDate,UserIds,Operations,AuditData, newest first),
JSON array, JSON Lines (Search-UnifiedAuditLog objects with AuditData as a string) and
Defender CloudAppEvents CSV (RawEventData). Attack values from the Microsoft Security blog of
2022-09-22; tenants, users, app ids and addresses are invented (TEST-NET addresses for the
attacker's sign-ins).
Run from anywhere: python3 corpus/audit/generate.py
"""
import csv
import io
import json
import os
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
NS = uuid.UUID("6d1b7c3e-2f4a-4c8e-9b0d-5a7e3c1f2b4d")

PS_APP = "1b730954-1685-4b74-9bfd-dac224a7b894"     # Azure AD PowerShell
OFFICE_APP = "d3590ed6-52b3-4102-aeff-aad2292ab01c"  # Microsoft Office
EXO_APP = "00000002-0000-0ff1-ce00-000000000000"     # Office 365 Exchange Online
MANAGE_AS_APP = "dc50a0fb-09a3-484d-be87-e023b12c6440"
SWAGGER = "Swagger-Codegen/1.4.0.0/csharp"
CAMPAIGN_IPS = "170.75.174.97;170.75.172.8;170.75.170.69;170.75.174.95;54.39.94.145;149.56.200.36;158.69.21.185;66.70.201.131"
PS_UA = "Mozilla/5.0 (Windows NT; Windows NT 10.0; en-US) WindowsPowerShell/5.1.19041.1682"
BROWSER_UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/104.0.0.0 Safari/537.36 Edg/104.0.1293.70"

STRIPPED = [
    "X-MS-Exchange-AntiSpam-MessageData", "X-MS-Exchange-AntiSpam-MessageData-ChunkCount",
    "X-MS-Exchange-AntiSpam-MessageData-0", "X-MS-Exchange-AntiSpam-MessageData-1",
    "ARC-Seal", "ARC-Message-Signature", "ARC-Authentication-Results",
    "X-Forefront-Antispam-Report", "X-Microsoft-Antispam", "X-Microsoft-Antispam-Message-Info",
    "X-MS-Exchange-SkipListedInternetSender", "X-MS-Exchange-ExternalOriginalInternetSender",
]


def gid(*parts):
    return str(uuid.uuid5(NS, "/".join(parts)))


class Tenant:
    def __init__(self, name, domain):
        self.name = name
        self.domain = domain
        self.org = gid("org", name)
        self.seq = 0

    def base(self, when, op, record_type, workload, user, user_type=0):
        self.seq += 1
        return {
            "CreationTime": when,
            "Id": gid(self.name, str(self.seq), op),
            "Operation": op,
            "OrganizationId": self.org,
            "RecordType": record_type,
            "ResultStatus": "True" if record_type == 1 else "Success",
            "UserKey": gid("userkey", user) if "@" in user else user,
            "UserType": user_type,
            "Version": 1,
            "Workload": workload,
            "UserId": user,
        }

    def exchange(self, when, op, params, user, object_id, client_ip, app_id="", user_type=2):
        r = self.base(when, op, 1, "Exchange", user, user_type)
        r.update({
            "ClientIP": client_ip,
            "ObjectId": object_id,
            "AppId": app_id,
            "ClientAppId": "",
            "ExternalAccess": False,
            "OrganizationName": f"{self.domain.split('.')[0]}.onmicrosoft.com",
            "OriginatingServer": "DM6PR11MB4313 (15.20.5566.015)",
            "Parameters": [{"Name": k, "Value": v} for k, v in params],
            "SessionId": gid(self.name, "session", when[:13]),
        })
        return r

    def aad(self, when, op, user, target_id, target_name, modified, ua, app_id=PS_APP, client_ip=""):
        r = self.base(when, op, 8, "AzureActiveDirectory", user)
        r.update({
            "ClientIP": client_ip,
            "ObjectId": target_id,
            "AzureActiveDirectoryEventType": 1,
            "ExtendedProperties": [
                {"Name": "additionalDetails",
                 "Value": json.dumps({"User-Agent": ua, "AppId": app_id}, separators=(",", ":"))},
                {"Name": "extendedAuditEventCategory", "Value": "ServicePrincipal"},
            ],
            "ModifiedProperties": [{"Name": n, "NewValue": v, "OldValue": ""} for n, v in modified],
            "Actor": [{"ID": user, "Type": 5}, {"ID": gid("userobj", user), "Type": 3},
                      {"ID": f"User_{gid('userobj', user)}", "Type": 2}],
            "ActorContextId": self.org,
            "InterSystemsId": gid(self.name, "isid", when),
            "IntraSystemId": gid(self.name, "intra", when),
            "SupportTicketId": "",
            "Target": [{"ID": f"ServicePrincipal_{target_id}", "Type": 2}, {"ID": target_id, "Type": 2},
                       {"ID": "ServicePrincipal", "Type": 2}, {"ID": target_name, "Type": 1}],
            "TargetContextId": self.org,
        })
        return r

    def signin(self, when, user, ip, app_id, ua, ok=True):
        op = "UserLoggedIn" if ok else "UserLoginFailed"
        r = self.base(when, op, 15, "AzureActiveDirectory", user)
        r["ResultStatus"] = "Success" if ok else "Failed"
        r.update({
            "ClientIP": ip,
            "ObjectId": "00000002-0000-0000-c000-000000000000",
            "AzureActiveDirectoryEventType": 1,
            "ExtendedProperties": [
                {"Name": "ResultStatusDetail", "Value": "Success" if ok else "Invalid username or password"},
                {"Name": "UserAgent", "Value": ua},
                {"Name": "RequestType", "Value": "OAuth2:Token"},
            ],
            "ModifiedProperties": [],
            "Actor": [{"ID": gid("userobj", user), "Type": 0}, {"ID": user, "Type": 5}],
            "ActorContextId": self.org,
            "ActorIpAddress": ip,
            "InterSystemsId": gid(self.name, "isid", when, user),
            "IntraSystemId": gid(self.name, "intra", when, user),
            "SupportTicketId": "",
            "Target": [{"ID": "00000002-0000-0000-c000-000000000000", "Type": 0}],
            "TargetContextId": self.org,
            "ApplicationId": app_id,
            "ErrorNumber": "0" if ok else "50126",
        })
        if not ok:
            r["LogonError"] = "InvalidUserNameOrPassword"
        return r


def connector_params(name, ips, efskip=True):
    p = [("Name", name), ("Enabled", "True"), ("CloudServicesMailEnabled", "True"),
         ("RestrictDomainsToCertificate", "False"), ("SenderDomains", "smtp:*;1"),
         ("SenderIPAddresses", ips), ("RestrictDomainsToIPAddresses", "True"),
         ("ConnectorSource", "HybridWizard")]
    if efskip:
        p.append(("EFSkipIPs", ips))
    p += [("TreatMessagesAsInternal", "False"), ("ConnectorType", "OnPremises"), ("RequireTls", "False")]
    return p


def attack(t, connector, ips, day, app_name):
    """The campaign in one tenant: stuffing, app deployment, months later connector + rules, cleanup."""
    admin = f"it-admin@{t.domain}"
    attacker_ip = "198.51.100.77"
    app_id = gid(t.name, "app", app_name)
    sp_id = gid(t.name, "sp", app_name)
    exo_sp = gid(t.name, "sp", "exchange")
    recs = []
    for i, u in enumerate(["reception", "sales", "j.doe", "finance", it_user := "it-admin"]):
        recs.append(t.signin(f"2022-06-14T03:1{i}:0{i}", f"{u}@{t.domain}", attacker_ip, PS_APP, PS_UA, ok=False))
    recs.append(t.signin("2022-06-14T03:16:12", admin, attacker_ip, PS_APP, PS_UA, ok=True))
    recs.append(t.aad("2022-06-14T03:17:40", "Add application.", admin, app_id, app_name,
                      [("AppAddress", "[]"), ("AppId", json.dumps(app_id)), ("DisplayName", json.dumps(app_name)),
                       ("Included Updated Properties", "AppAddress, AppId, DisplayName")], SWAGGER))
    recs.append(t.aad("2022-06-14T03:17:41", "Add service principal.", admin, sp_id, app_name,
                      [("AccountEnabled", "[true]"), ("AppPrincipalId", json.dumps([app_id])),
                       ("DisplayName", json.dumps([app_name]))], SWAGGER))
    recs.append(t.aad("2022-06-14T03:17:44", "Add app role assignment to service principal.", admin, sp_id, app_name,
                      [("AppRole.Id", MANAGE_AS_APP), ("AppRole.Value", "Exchange.ManageAsApp"),
                       ("AppRole.DisplayName", "Manage Exchange As Application"),
                       ("AppRoleAssignment.CreatedDateTime", "6/14/2022 3:17:44 AM"),
                       ("ServicePrincipal.ObjectID", exo_sp),
                       ("ServicePrincipal.DisplayName", "Office 365 Exchange Online"),
                       ("ServicePrincipal.AppId", EXO_APP), ("ServicePrincipal.Name", EXO_APP)], SWAGGER))
    recs.append(t.aad("2022-06-14T03:17:47", "Add service principal credentials.", admin, sp_id, app_name,
                      [("KeyDescription", '["[KeyIdentifier=' + gid(t.name, "key1") +
                        ',KeyType=Password,KeyUsage=Verify,DisplayName=]"]'),
                       ("Included Updated Properties", "KeyDescription")], SWAGGER))
    recs.append(t.aad("2022-06-14T03:17:49", "Update application \u2013 Certificates and secrets management ", admin,
                      app_id, app_name,
                      [("KeyDescription", '["[KeyIdentifier=' + gid(t.name, "key2") +
                        ',KeyType=Password,KeyUsage=Verify,DisplayName=]"]'),
                       ("Included Updated Properties", "KeyDescription")], SWAGGER))
    # weeks later: the app configures Exchange Online
    sp_user = f"ServicePrincipal_{sp_id}"
    recs.append(t.exchange(f"{day}T10:02:11", "New-InboundConnector", connector_params(connector, ips), sp_user,
                           connector, "198.51.100.91:50412", app_id, user_type=5))
    for i, h in enumerate(STRIPPED):
        name = f"Test0{i + 1}"
        sec = 131 + 17 * (i + 1)  # 10:02:11 + 17 s per rule
        recs.append(t.exchange(f"{day}T10:{sec // 60:02d}:{sec % 60:02d}", "New-TransportRule",
                               [("Name", name), ("SenderAddressLocation", "Header"), ("RemoveHeader", h)],
                               sp_user, name, "198.51.100.91:50412", app_id, user_type=5))
    # after the wave: cleanup
    for i in range(len(STRIPPED)):
        name = f"Test0{i + 1}"
        recs.append(t.exchange(f"{day}T18:40:{10 + i:02d}", "Remove-TransportRule",
                               [("Identity", name), ("Confirm", "False")], sp_user, name,
                               "198.51.100.91:50877", app_id, user_type=5))
    recs.append(t.exchange(f"{day}T18:40:31", "Remove-InboundConnector",
                           [("Identity", connector), ("Confirm", "False")], sp_user, connector,
                           "198.51.100.91:50877", app_id, user_type=5))
    return recs


def benign(t):
    admin = f"mail.admin@{t.domain}"
    recs = []
    recs.append(t.signin("2022-08-02T07:58:03", admin, "203.0.113.10", OFFICE_APP, BROWSER_UA))
    recs.append(t.signin("2022-08-02T08:01:44", f"anna.berg@{t.domain}", "203.0.113.10", OFFICE_APP, BROWSER_UA))
    recs.append(t.exchange("2022-08-02T08:05:12", "Set-Mailbox",
                           [("Identity", "anna.berg"), ("ForwardingSmtpAddress", ""), ("LitigationHoldEnabled", "True")],
                           admin, "anna.berg", "203.0.113.10:61544"))
    recs.append(t.exchange("2022-08-02T08:07:30", "Add-MailboxPermission",
                           [("Identity", "shared-invoices"), ("User", "anna.berg"), ("AccessRights", "FullAccess")],
                           admin, "shared-invoices", "203.0.113.10:61544"))
    recs.append(t.exchange("2022-08-02T08:10:02", "New-DistributionGroup",
                           [("Name", "Project Falcon"), ("PrimarySmtpAddress", f"falcon@{t.domain}")],
                           admin, "Project Falcon", "203.0.113.10:61544"))
    # hybrid configuration wizard: a certificate-bound on-premises connector
    hcw = f"Inbound from {gid(t.name, 'hcw')}"
    recs.append(t.exchange("2022-08-03T14:20:05", "New-InboundConnector",
                           [("Name", hcw), ("Enabled", "True"), ("CloudServicesMailEnabled", "True"),
                            ("ConnectorSource", "HybridWizard"), ("ConnectorType", "OnPremises"),
                            ("SenderDomains", "smtp:*;1"), ("RequireTls", "True"),
                            ("RestrictDomainsToCertificate", "True"), ("RestrictDomainsToIPAddresses", "False"),
                            ("TlsSenderCertificateName", f"mail.{t.domain}"), ("TreatMessagesAsInternal", "False")],
                           admin, hcw, "[2603:10a6:208:c1::16]:51200"))
    recs.append(t.exchange("2022-08-03T14:20:09", "New-OutboundConnector",
                           [("Name", f"Outbound to {gid(t.name, 'hcw')}"), ("ConnectorType", "OnPremises"),
                            ("SmartHosts", f"mail.{t.domain}"), ("TlsSettings", "DomainValidation")],
                           admin, "Outbound", "[2603:10a6:208:c1::16]:51200"))
    recs.append(t.exchange("2022-08-04T09:12:40", "New-TransportRule",
                           [("Name", "External sender disclaimer"), ("FromScope", "NotInOrganization"),
                            ("SentToScope", "InOrganization"), ("ApplyHtmlDisclaimerLocation", "Prepend"),
                            ("ApplyHtmlDisclaimerText",
                             "<p style=\"color:#9c0006\">CAUTION: This email came from outside Contoso. "
                             "Do not click links unless you recognise the sender.</p>"),
                            ("ApplyHtmlDisclaimerFallbackAction", "Wrap")],
                           admin, "External sender disclaimer", "203.0.113.10:62001"))
    recs.append(t.exchange("2022-08-04T09:15:02", "Set-TransportRule",
                           [("Identity", "External sender disclaimer"), ("ExceptIfSenderDomainIs", "partner.example")],
                           admin, "External sender disclaimer", "203.0.113.10:62001"))
    recs.append(t.exchange("2022-08-04T09:20:45", "New-TransportRule",
                           [("Name", "Strip internal routing tag"), ("SentToScope", "NotInOrganization"),
                            ("RemoveHeader", "X-Contoso-Route-Tag")],
                           admin, "Strip internal routing tag", "203.0.113.10:62001"))
    recs.append(t.exchange("2022-08-04T09:30:00", "Remove-TransportRule",
                           [("Identity", "Old disclaimer 2019"), ("Confirm", "False")],
                           admin, "Old disclaimer 2019", "203.0.113.10:62001"))
    # an admin using the Azure AD PowerShell module, and a secret rotation in the portal
    recs.append(t.signin("2022-08-05T11:02:09", admin, "203.0.113.10", PS_APP, PS_UA))
    backup_app = gid(t.name, "app", "Backup Connector")
    r = t.aad("2022-08-05T11:40:31", "Update application \u2013 Certificates and secrets management ", admin,
              backup_app, "Contoso Backup Connector",
              [("KeyDescription", '["[KeyIdentifier=' + gid(t.name, "bkey") +
                ',KeyType=Password,KeyUsage=Verify,DisplayName=rotation 2022-08]"]'),
               ("Included Updated Properties", "KeyDescription")], BROWSER_UA,
              app_id="c44b4083-3bb0-49c1-b47d-974e53cbdf3c")  # Azure portal
    recs.append(r)
    recs.append(t.aad("2022-08-05T11:45:10", "Add app role assignment to service principal.", admin,
                      gid(t.name, "sp", "Backup Connector"), "Contoso Backup Connector",
                      [("AppRole.Id", "810c84a8-4a9e-49e6-bf7d-12d183f40d01"), ("AppRole.Value", "Mail.Read"),
                       ("ServicePrincipal.DisplayName", "Microsoft Graph"),
                       ("ServicePrincipal.AppId", "00000003-0000-0000-c000-000000000000")], BROWSER_UA,
                      app_id="c44b4083-3bb0-49c1-b47d-974e53cbdf3c"))
    recs.append(t.exchange("2022-08-06T16:00:12", "Set-OrganizationConfig",
                           [("AuditDisabled", "False")], admin, f"{t.domain.split('.')[0]}.onmicrosoft.com",
                           "203.0.113.10:60123"))
    return recs


# ---- export forms ----------------------------------------------------------------------

def compact(rec):
    return json.dumps(rec, separators=(",", ":"), ensure_ascii=False)


def csv_text(rows, header):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow(header)
    for row in rows:
        w.writerow(row)
    return buf.getvalue()


def purview_rows(recs):
    out = []
    for r in sorted(recs, key=lambda r: r["CreationTime"], reverse=True):  # Purview: newest first
        out.append([r["CreationTime"] + ".0000000Z", r["UserId"], r["Operation"], compact(r)])
    return out


def write_purview(path, recs):
    write(path, "\ufeff" + csv_text(purview_rows(recs), ["CreationDate", "UserIds", "Operations", "AuditData"]))


def write_json(path, recs):
    write(path, json.dumps(recs, indent=2, ensure_ascii=False) + "\n")


def write_jsonl(path, recs):
    # Search-UnifiedAuditLog objects (ConvertTo-Json -Compress), AuditData as a string
    lines = []
    for i, r in enumerate(recs):
        lines.append(compact({"RunspaceId": gid("runspace"), "RecordType": "ExchangeAdmin" if r["RecordType"] == 1
                              else "AzureActiveDirectory" if r["RecordType"] == 8 else "AzureActiveDirectoryStsLogon",
                              "CreationDate": r["CreationTime"].replace("T", " "), "UserIds": r["UserId"],
                              "Operations": r["Operation"], "AuditData": compact(r), "ResultIndex": i + 1,
                              "ResultCount": len(recs), "Identity": r["Id"], "IsValid": True,
                              "ObjectState": "Unchanged"}))
    write(path, "\n".join(lines) + "\n")


CAE_HEADER = ["Timestamp", "ActionType", "Application", "ApplicationId", "AccountObjectId", "AccountDisplayName",
              "IsAdminOperation", "DeviceType", "OSPlatform", "IPAddress", "IsAnonymousProxy", "CountryCode",
              "City", "ISP", "UserAgent", "ActivityType", "ActivityObjects", "ObjectName", "ObjectType",
              "ObjectId", "ReportId", "AccountId", "AccountType", "IsExternalUser", "IsImpersonated", "IPTags",
              "IPCategory", "UserAgentTags", "RawEventData", "AdditionalFields"]


def cae_row(r):
    exch = r["RecordType"] == 1
    app, app_num = ("Microsoft Exchange Online", "20893") if exch else ("Microsoft Azure", "12260")
    ua = ""
    for p in r.get("ExtendedProperties", []):
        if p["Name"] == "UserAgent":
            ua = p["Value"]
        elif p["Name"] == "additionalDetails":
            ua = json.loads(p["Value"]).get("User-Agent", "")
    ip = r.get("ClientIP", "").rsplit(":", 1)[0].strip("[]") if exch else r.get("ClientIP", "")
    objs = [{"Type": "Structured object", "Role": "Target object", "Name": r.get("ObjectId", "")}]
    return [r["CreationTime"] + ".0000000Z", r["Operation"], app, app_num, gid("userobj", r["UserId"]),
            r["UserId"].split("@")[0], "True" if exch else "False", "", "", ip, "False", "", "", "", ua,
            "Basic", json.dumps(objs), r.get("ObjectId", ""), "Structured object", r.get("ObjectId", ""),
            gid("report", r["Id"]), r["UserId"], "Regular", "False", "False", "[]", "", "[]", compact(r), "{}"]


def write_cae(path, recs):
    write(path, csv_text([cae_row(r) for r in recs], CAE_HEADER))


def write(path, text, binary=None):
    full = os.path.join(HERE, path)
    with open(full, "wb") as f:
        f.write(binary if binary is not None else text.encode("utf-8"))


def main():
    contoso = Tenant("contoso", "contoso.example")
    fabrikam = Tenant("fabrikam", "fabrikam.example")
    northwind = Tenant("northwind", "northwind.example")

    ben = benign(contoso)
    atk = attack(fabrikam, "Ran_jBelh", CAMPAIGN_IPS, "2022-09-01", "Fabrikam Mail Sync")
    # the attack tenant also has normal activity around it
    atk_all = sorted(atk + [fabrikam.exchange("2022-08-30T09:00:00", "Set-Mailbox",
                                              [("Identity", "reception"), ("MaxSendSize", "35MB")],
                                              f"it-admin@{fabrikam.domain}", "reception", "203.0.113.44:50000")],
                     key=lambda r: r["CreationTime"])

    write_purview("benign.csv", ben)
    write_json("benign.json", ben)
    write_jsonl("benign.jsonl", ben)
    write_cae("benign-cloudappevents.csv", ben)

    write_purview("attack.csv", atk_all)
    write_json("attack.json", atk_all)
    write_jsonl("attack.jsonl", atk_all)
    write_cae("attack-cloudappevents.csv", atk_all)

    # rotated infrastructure: a connector IP that is not in the builtin pack
    rot = attack(northwind, "Ran_xAFzd", "203.0.113.77", "2022-10-12", "Northwind Sync Service")
    write_purview("attack-rotated-ip.csv", rot)

    # malformed rows in among the attack (Purview CSV, newest first)
    header = "CreationDate,UserIds,Operations,AuditData"
    good = csv_text(purview_rows(atk_all), header.split(",")).split("\r\n")[1:-1]
    lines = ["\ufeff" + header]
    bad_json = '2022-09-01T12:00:00.0000000Z,it-admin@fabrikam.example,Set-Mailbox,"{""CreationTime"":""2022-09-01T12:00:00"",""Operation"":""Set-Mailbox"",""Parameters"":[{""Name"":""Identity""}"'
    truncated = '2022-09-01T11:00:00.0000000Z,it-admin@fabrikam.example,Set-Mailbox,"{""CreationTime"":""2022-09-01T11:00:00"",""Id"":""8c3e1f0a-1111-4e2b-9c55-0d2a6b7e9f10"",""Operation"":""Set-Ma'
    extra_col = '2022-09-01T10:30:00.0000000Z,it-admin@fabrikam.example,Set-Mailbox,"{""CreationTime"":""2022-09-01T10:30:00"",""Operation"":""Set-Mailbox""}",surplus'
    no_op = '2022-09-01T10:20:00.0000000Z,it-admin@fabrikam.example,,"{""CreationTime"":""2022-09-01T10:20:00"",""Id"":""0b7c2d4e-2222-4f3a-8d66-1e3b7c8f0a21""}"'
    # newest first: the bad rows sit among the good ones at known lines
    lines += good[:3] + [bad_json] + good[3:6] + [truncated] + good[6:10] + [extra_col] + good[10:12] + [no_op] + good[12:]
    text = "\r\n".join(lines) + "\r\n"
    # non-UTF-8: a Latin-1 e-acute in a user name inside a good attack row (kept, repaired)
    data = text.encode("utf-8")
    marker = b"it-admin@fabrikam.example,Remove-InboundConnector"
    assert marker not in data  # the connector removal row is by the service principal
    latin = "Jos\u00e9 Admin".encode("latin-1")
    data = data.replace(b'it-admin@fabrikam.example,Set-Mailbox,"{""CreationTime"":""2022-08-30T09:00:00""',
                        latin + b'@fabrikam.example,Set-Mailbox,"{""CreationTime"":""2022-08-30T09:00:00""', 1)
    write("attack-malformed.csv", None, binary=data)

    # malformed JSON Lines and JSON array
    jl = [compact(r) for r in atk_all]
    jl_lines = jl[:4] + ['{"CreationTime":"2022-06-14T03:20:00","Operation":"Set-Mailbox",'] + jl[4:8] + \
        ['[1,2,3]'] + jl[8:9] + ['{"CreationTime":"not a time","Operation":"Set-Mailbox","OrganizationId":"x"}'] + jl[9:]
    data = ("\n".join(jl_lines) + "\n").encode("utf-8")
    data = data.replace(b'"UserId":"reception@fabrikam.example"', b'"UserId":"r\xe9ception@fabrikam.example"', 1)
    write("attack-malformed.jsonl", None, binary=data)

    arr = json.dumps(atk_all[:10], indent=2)[:-2]  # open array, without "\n]"
    arr += ',\n  {"CreationTime": "2022-09-01T10:00:00", "Operation": "New-TransportRule", "Parameters": "RemoveHeader=ARC-Seal"},\n  42,\n'
    rest = json.dumps(atk_all[10:], indent=2)
    arr += rest[2:-2]  # elements only
    arr += ',\n  {"CreationTime": "2022-09-02T00:00:00", "Operation": "Set-Mailbox", "Parameters": [\n'  # truncated
    write("attack-malformed.json", arr)


if __name__ == "__main__":
    main()
