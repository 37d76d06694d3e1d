"""Every publisher the warehouse reads, by the name used in `warehouse refresh --only NAME`."""

from orchestration.sources.base import Source
from orchestration.sources.comtrade import COMTRADE
from orchestration.sources.eia import EIA
from orchestration.sources.federal_register import FEDERAL_REGISTER
from orchestration.sources.imf import IMF
from orchestration.sources.jodi import JODI
from orchestration.sources.ofac import OFAC

SOURCES: dict[str, Source] = {source.name: source for source in (OFAC, JODI, EIA, IMF, COMTRADE, FEDERAL_REGISTER,)}
