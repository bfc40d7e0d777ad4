//! Every label in Chinese and English (issue 13 item 9), and numbers and amounts in the locale's
//! format. Chinese is the default: the reference deployment is Hainan's.

/// A page's language, from the `freeport_lang` cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

/// The cookie that keeps the choice.
pub const LANG_COOKIE: &str = "freeport_lang";

impl Lang {
    pub fn parse(text: &str) -> Option<Lang> {
        match text {
            "zh" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// The `lang` attribute of the page.
    pub fn html(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// The language the switch offers.
    pub fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }

    /// The switch's label, in the language it switches to.
    pub fn name(self) -> &'static str {
        match self {
            Lang::Zh => "中文",
            Lang::En => "English",
        }
    }

    /// The label `key` in this language; an unknown key shows itself, so a missing label is seen
    /// on the page and caught by the test that every key has both.
    pub fn t(&self, key: &str) -> &'static str {
        LABELS
            .iter()
            .find(|(k, _, _)| *k == key)
            .map_or("??", |(_, zh, en)| match self {
                Lang::Zh => zh,
                Lang::En => en,
            })
    }

    /// An amount in fen as the locale writes CNY: grouped thousands, two decimals.
    pub fn cny(&self, fen: &i64) -> String {
        let sign = if *fen < 0 { "-" } else { "" };
        let abs = fen.unsigned_abs();
        let yuan = group(abs / 100);
        let cents = abs % 100;
        match self {
            Lang::Zh => format!("{sign}¥{yuan}.{cents:02}"),
            Lang::En => format!("{sign}CNY {yuan}.{cents:02}"),
        }
    }

    /// A count with grouped thousands.
    pub fn count(&self, n: &i64) -> String {
        let sign = if *n < 0 { "-" } else { "" };
        format!("{sign}{}", group(n.unsigned_abs()))
    }
}

fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// (key, Chinese, English).
const LABELS: &[(&str, &str, &str)] = &[
    ("app", "自由港海关监管平台", "Freeport customs supervision"),
    (
        "centre",
        "业务运行监控中心",
        "Business operation monitoring centre",
    ),
    ("sign_in", "登录", "Sign in"),
    ("sign_out", "退出", "Sign out"),
    ("username", "用户名", "Username"),
    ("password", "密码", "Password"),
    (
        "refused",
        "用户名或密码错误",
        "Unknown user or wrong password",
    ),
    (
        "busy",
        "尝试次数过多，请稍后再试",
        "Too many attempts: try again shortly",
    ),
    ("signed_in_as", "当前用户", "Signed in as"),
    ("role", "角色", "Role"),
    ("language", "语言", "Language"),
    ("home", "首页", "Home"),
    ("pages", "页面", "Pages"),
    ("open_alerts", "待处置预警", "Open alerts"),
    ("no_alerts", "暂无待处置预警", "No open alerts"),
    ("alert_kind", "类型", "Kind"),
    ("subject", "事项", "Subject"),
    ("raised_on", "发出日期", "Raised on"),
    ("state", "状态", "State"),
    ("ports", "二线口岸", "Second-line ports"),
    ("port", "口岸", "Port"),
    ("mode", "运行模式", "Mode"),
    ("normal", "正常", "Normal"),
    ("since", "起始", "Since"),
    ("set_mode", "设置口岸运行模式", "Set a port's mode"),
    (
        "reroute_to",
        "改至口岸（关闭时）",
        "Cross instead at (when closed)",
    ),
    ("reason", "原因", "Reason"),
    ("apply", "确定", "Apply"),
    ("mode_normal", "正常", "Normal"),
    (
        "mode_scanners_down",
        "H986 设备故障：红色通道改为人工查验",
        "H986 scanners out of service: red lane to manual inspection",
    ),
    (
        "mode_system_down",
        "通关系统故障：凭担保放行，事后补办",
        "Clearance systems down: release on guarantee, regularise afterwards",
    ),
    (
        "mode_port_closed",
        "口岸关闭：改由指定口岸通关",
        "Port closed: cross at the port named",
    ),
    ("declarations", "申报单", "Declarations"),
    ("no_declarations", "暂无申报单", "No declarations yet"),
    ("reference", "编号", "Reference"),
    ("flow", "流向", "Flow"),
    ("status", "状态", "Status"),
    ("lane", "通道", "Lane"),
    ("payable", "应缴税款", "Payable"),
    ("declared_on", "申报日期", "Declared on"),
    ("shops", "免税店", "Duty-free shops"),
    ("no_shops", "暂无免税店", "No shops"),
    ("shop", "店铺", "Shop"),
    ("location", "地点", "Location"),
    ("sales_today", "今日销售", "Sales today"),
    ("committed", "已成交", "Committed"),
    ("net", "净额", "Net"),
    ("pending", "待确认", "Pending"),
    ("refused_sales", "被拒", "Refused"),
    ("departures", "旅客离岛记录", "Travellers' departures"),
    (
        "departures_api",
        "承运人通过接口报送旅客离岛记录：POST /api/v1/departures。",
        "Carriers report their passengers' departures through the API: POST /api/v1/departures.",
    ),
    ("forbidden", "无权访问", "Not allowed"),
    ("trace", "免税商品溯源", "Item trace"),
    ("allowance", "旅客免税额度", "Traveller's allowance"),
    ("traveller", "旅客", "Traveller"),
    ("document_kind", "证件类型", "Document"),
    ("document_number", "证件号码", "Document number"),
    (
        "issuing_country",
        "签发国家（护照，两位字母）",
        "Issuing country (passport, 2 letters)",
    ),
    ("departure_on", "离岛日期", "Departure day"),
    ("doc_resident_id", "居民身份证", "Resident identity card"),
    ("doc_passport", "护照", "Passport"),
    (
        "doc_hk_macao_permit",
        "港澳居民来往内地通行证",
        "Hong Kong and Macao residents' permit",
    ),
    (
        "doc_taiwan_permit",
        "台湾居民来往大陆通行证",
        "Taiwan residents' permit",
    ),
    (
        "doc_foreign_permanent_resident_id",
        "外国人永久居留身份证",
        "Foreign permanent resident ID",
    ),
    ("annual_quota", "年度免税额度", "Annual quota"),
    ("spent", "已使用", "Spent"),
    ("reserved", "已预留", "Reserved"),
    ("remaining", "剩余", "Remaining"),
    (
        "resident_remaining",
        "岛内居民零关税额度剩余",
        "Residents' zero-tariff quota remaining",
    ),
    ("on_record", "已有离岛记录", "On record"),
    ("banned_until", "禁止购买至", "Banned until"),
    (
        "dishonest_until",
        "严重失信名单至",
        "Serious-dishonesty list until",
    ),
    ("category", "品类", "Category"),
    ("limit", "单次限量", "Limit"),
    ("taken", "已购", "Taken"),
    (
        "trace_code",
        "溯源码（16 位）",
        "Traceability number (16 digits)",
    ),
    ("look_up", "查询", "Look up"),
    (
        "no_item",
        "未找到该溯源码的商品",
        "No item has this traceability number",
    ),
    ("item_state", "商品状态", "State"),
    ("buyer", "购买人（人员编码）", "Buyer (person code)"),
    ("sale", "销售单", "Sale"),
    ("line", "行", "line"),
    ("departure", "离岛记录", "Departure on record"),
    ("no_departure", "无离岛记录", "None on record"),
    ("item_reserved", "已预留", "Reserved"),
    ("item_sold", "已售出", "Sold"),
    ("item_handed_over", "已提货", "Handed over"),
    ("item_departed", "已随旅客离岛", "Departed with the buyer"),
    ("item_returned", "已退货", "Returned"),
    ("role_customs_officer", "海关关员", "Customs officer"),
    ("role_risk_analyst", "风险分析员", "Risk analyst"),
    ("role_administrator", "管理员", "Administrator"),
    ("role_enterprise_user", "企业用户", "Enterprise user"),
    (
        "role_duty_free_operator",
        "免税经营者",
        "Duty-free operator",
    ),
    ("role_carrier", "承运人", "Carrier"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_grouped_to_the_fen_in_each_locale() {
        assert_eq!(Lang::Zh.cny(&123_456_789), "¥1,234,567.89");
        assert_eq!(Lang::En.cny(&-5), "-CNY 0.05");
        assert_eq!(Lang::En.count(&1_000), "1,000");
        assert_eq!(Lang::Zh.count(&999), "999");
    }

    #[test]
    fn every_label_has_both_languages_and_keys_are_unique() {
        for (i, (key, zh, en)) in LABELS.iter().enumerate() {
            assert!(!zh.is_empty() && !en.is_empty(), "{key}");
            assert!(LABELS[..i].iter().all(|(k, _, _)| k != key), "{key} twice");
        }
        assert_eq!(Lang::En.t("no such key"), "??");
    }
}
