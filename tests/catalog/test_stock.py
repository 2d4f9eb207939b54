import pytest
from django.db import IntegrityError, transaction

from catalog.exceptions import InsufficientStock, StockBelowAllocated
from catalog.models import Stock
from catalog.stock import stock_adjust, stock_allocate, stock_deallocate, stock_set_on_hand, stock_ship
from tests.catalog.factories import VariantFactory
from tests.concurrency import race


def _stock(variant):
    return Stock.objects.get(variant=variant)


@pytest.mark.django_db
def test_allocate_takes_units_from_available(variant):
    stock_allocate(lines=[(variant.pk, 2), (variant.pk, 1)])
    stock = _stock(variant)
    assert (stock.on_hand, stock.allocated, stock.available) == (5, 3, 2)


@pytest.mark.django_db
def test_allocate_is_all_or_nothing_and_names_every_short_line(variant, other_variant):
    with pytest.raises(InsufficientStock) as excinfo:
        stock_allocate(lines=[(variant.pk, 6), (other_variant.pk, 1)])
    assert excinfo.value.items == [(variant.pk, 6, 5)]
    assert _stock(variant).allocated == 0
    assert _stock(other_variant).allocated == 0


@pytest.mark.django_db
def test_deallocate_never_goes_below_zero(variant):
    stock_allocate(lines=[(variant.pk, 2)])
    stock_deallocate(lines=[(variant.pk, 5)])
    assert _stock(variant).allocated == 0


@pytest.mark.django_db
def test_ship_lowers_on_hand_and_allocated(variant):
    stock_allocate(lines=[(variant.pk, 2)])
    stock_ship(lines=[(variant.pk, 2)])
    stock = _stock(variant)
    assert (stock.on_hand, stock.allocated) == (3, 0)


@pytest.mark.django_db
def test_on_hand_cannot_be_set_below_allocated(variant):
    stock_allocate(lines=[(variant.pk, 4)])
    with pytest.raises(StockBelowAllocated):
        stock_set_on_hand(variant_id=variant.pk, on_hand=3)
    with pytest.raises(StockBelowAllocated):
        stock_adjust(variant_id=variant.pk, delta=-2)
    stock_adjust(variant_id=variant.pk, delta=-1)
    assert _stock(variant).on_hand == 4


@pytest.mark.django_db
def test_database_refuses_allocated_above_on_hand(variant):
    with pytest.raises(IntegrityError), transaction.atomic():
        Stock.objects.filter(variant=variant).update(allocated=99)


@pytest.mark.django_db(transaction=True)
def test_concurrent_allocations_never_oversell():
    variant = VariantFactory(on_hand=5)
    outcomes = race([lambda: stock_allocate(lines=[(variant.pk, 1)])] * 12)
    assert outcomes.count(None) == 5
    assert sum(isinstance(o, InsufficientStock) for o in outcomes) == 7
    stock = _stock(variant)
    assert (stock.on_hand, stock.allocated) == (5, 5)
