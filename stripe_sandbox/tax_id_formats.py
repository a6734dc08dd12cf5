"""Customer tax ID types and the format check Stripe makes before storing one.

Pure rules over plain strings: :func:`check` answers the tax ID's country or raises
:class:`InvalidTaxId`. The types are those ``POST /v1/customers/{id}/tax_ids`` takes;
the patterns follow the examples of Stripe's "Customer tax IDs" guide. Types without a
pattern here get a light check (a short run of letters, digits and separators).
"""

from __future__ import annotations

import re

TYPES = (
    *("ad_nrt", "ae_trn", "al_tin", "am_tin", "ao_tin", "ar_cuit", "au_abn", "au_acn"),
    *("au_arn", "au_wpn", "aw_tin", "az_tin", "ba_tin", "bb_tin", "bd_bin", "bf_ifu"),
    *("bg_uic", "bh_vat", "bj_ifu", "bo_tin", "br_cnpj", "br_cpf", "bs_tin", "bw_vat"),
    *("by_tin", "ca_bn", "ca_gst_hst", "ca_pst_bc", "ca_pst_mb", "ca_pst_sk", "ca_qst"),
    *("cd_nif", "ch_uid", "ch_vat", "ci_vat", "cl_tin", "cm_niu", "cn_tin", "co_nit"),
    *("cr_tin", "cv_nif", "cz_dic", "de_stn", "do_rcn", "ec_ruc", "eg_tin", "es_cif"),
    *("et_tin", "eu_oss_vat", "eu_vat", "fo_vat", "fr_siren", "fr_siret", "fr_spi"),
    *("gb_vat", "ge_vat", "gh_tin", "gi_tin", "gn_nif", "hk_br", "hr_oib", "hu_tin"),
    *("ic_nif", "id_npwp", "il_vat", "in_gst", "is_kt", "is_vat", "it_cf", "jp_cn"),
    *("jp_rn", "jp_trn", "ke_pin", "kg_tin", "kh_tin", "kr_brn", "kz_bin", "la_tin"),
    *("li_uid", "li_vat", "lk_vat", "ma_vat", "md_cf", "md_vat", "me_pib", "mk_vat"),
    *("mr_nif", "mu_vat", "mx_rfc", "my_frp", "my_itn", "my_sst", "mz_nuit", "ng_tin"),
    *("no_vat", "no_voec", "np_pan", "nz_bn", "nz_gst", "om_vat", "pe_ruc", "ph_tin"),
    *("pl_nip", "pt_nif", "py_ruc", "ro_tin", "rs_pib", "ru_inn", "ru_kpp", "sa_vat"),
    *("sg_gst", "sg_uen", "si_tin", "sm_coe", "sn_ninea", "sr_fin", "sv_nit", "th_vat"),
    *("tj_tin", "tr_tin", "tt_bir", "tt_vat", "tw_vat", "tz_vat", "ua_vat", "ug_tin"),
    *("us_ein", "uy_ruc", "uz_tin", "uz_vat", "ve_rif", "vn_tin", "za_vat", "zm_tin"),
    "zw_tin",
)

#: Types Stripe checks with a government service (VIES, HMRC, the ABR): their
#: ``verification`` starts ``pending``; other types have none.
VERIFIED_TYPES = frozenset({"eu_vat", "gb_vat", "au_abn"})

#: EU VAT numbers by prefix (Greece writes EL; XI is Northern Ireland), checked without
#: spaces, dots and hyphens.
_EU_VAT = {
    "AT": r"U\d{8}",
    "BE": r"[01]\d{9}",
    "BG": r"\d{9,10}",
    "CY": r"\d{8}[A-Z]",
    "CZ": r"\d{8,10}",
    "DE": r"\d{9}",
    "DK": r"\d{8}",
    "EE": r"\d{9}",
    "EL": r"\d{9}",
    "ES": r"[A-Z0-9]\d{7}[A-Z0-9]",
    "FI": r"\d{8}",
    "FR": r"[A-Z0-9]{2}\d{9}",
    "HR": r"\d{11}",
    "HU": r"\d{8}|\d{11}",
    "IE": r"\d{7}[A-Z]{1,2}|\d[A-Z+*]\d{5}[A-Z]",
    "IT": r"\d{11}",
    "LT": r"\d{9}|\d{12}",
    "LU": r"\d{8}",
    "LV": r"\d{11}",
    "MT": r"\d{8}",
    "NL": r"\d{9}B\d{2}",
    "PL": r"\d{10}",
    "PT": r"\d{9}",
    "RO": r"\d{2,10}",
    "SE": r"\d{12}",
    "SI": r"\d{8}",
    "SK": r"\d{10}",
    "XI": r"\d{9}|\d{12}|GD\d{3}|HA\d{3}",
}
_EU_COUNTRY = {"EL": "GR", "XI": "GB"}

#: Exact formats, matched against the value as given (upper-cased).
_EXACT = {
    "us_ein": r"\d{2}-\d{7}",
    "ch_vat": r"CHE-?\d{3}\.?\d{3}\.?\d{3} ?(MWST|TVA|IVA)",
    "ch_uid": r"CHE-?\d{3}\.?\d{3}\.?\d{3}",
    "br_cnpj": r"\d{2}\.\d{3}\.\d{3}/\d{4}-\d{2}",
    "br_cpf": r"\d{3}\.\d{3}\.\d{3}-\d{2}",
    "ca_pst_bc": r"PST-\d{4}-\d{4}",
}

#: Formats matched without spaces (and, for numbers written in groups, dots and hyphens).
_COMPACT = {
    "gb_vat": r"GB(\d{9}|\d{12}|GD\d{3}|HA\d{3})",
    "au_abn": r"\d{11}",
    "au_arn": r"\d{12}",
    "ca_bn": r"\d{9}",
    "ca_gst_hst": r"\d{9}RT\d{4}",
    "ca_qst": r"\d{10}TQ\d{4}",
    "no_vat": r"\d{9}MVA",
    "no_voec": r"\d{7}",
    "eu_oss_vat": r"EU\d{9}",
    "nz_gst": r"\d{8,9}",
    "za_vat": r"4\d{9}",
    "in_gst": r"\d{2}[A-Z]{5}\d{4}[A-Z][A-Z0-9]Z[A-Z0-9]",
    "jp_trn": r"T\d{13}",
    "sg_gst": r"M\d{8}[A-Z]",
    "li_uid": r"CHE\d{9}",
    "es_cif": r"[A-Z]\d{8}",
}
_LIGHT = re.compile(r"[A-Z0-9][A-Z0-9 ./-]{1,38}")
_SEPARATORS = re.compile(r"[\s.\-]")


class InvalidTaxId(ValueError):
    """The value is not a tax ID of that type (Stripe: ``tax_id_invalid``)."""


def check(kind: str, value: str) -> str | None:
    """The country of a well-formed tax ID of type ``kind`` (None where the type names
    none, as ``eu_oss_vat``); raises :class:`InvalidTaxId` for a malformed one."""
    raw = value.strip().upper()
    compact = _SEPARATORS.sub("", raw)
    if kind == "eu_vat":
        prefix, rest = compact[:2], compact[2:]
        pattern = _EU_VAT.get(prefix)
        if pattern is None or not re.fullmatch(pattern, rest):
            raise InvalidTaxId(kind)
        return _EU_COUNTRY.get(prefix, prefix)
    if kind in _EXACT:
        ok = re.fullmatch(_EXACT[kind], raw) is not None
    elif kind in _COMPACT:
        ok = re.fullmatch(_COMPACT[kind], compact) is not None
    else:
        ok = _LIGHT.fullmatch(raw) is not None and any(c.isdigit() for c in raw)
    if not ok:
        raise InvalidTaxId(kind)
    return None if kind == "eu_oss_vat" else kind.split("_", 1)[0].upper()
