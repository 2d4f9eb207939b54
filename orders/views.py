"""Cart, checkout and the shopper's orders. Views check access and shape, services do the work."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from catalog.exceptions import InsufficientStock

from . import selectors
from .cart_session import current_cart
from .exceptions import (
    CartError,
    CheckoutClosed,
    EmptyCart,
    IllegalTransition,
    OrderError,
    PaymentDeclined,
    ReviewError,
    ReviewNotAllowed,
    VariantUnavailable,
)
from .forms import AddToCartForm, BiddingSetupForm, CartLineForm, CheckoutForm, ReviewForm
from .reviews import order_can_be_reviewed
from .services import (
    address_save,
    cart_add,
    cart_line_remove,
    cart_line_set_quantity,
    checkout_complete,
    order_cancel,
    payment_method_delete,
    payment_method_save,
    review_save,
    shipping_methods_for,
)


def _stock_message(exc: InsufficientStock) -> str:
    available = exc.items[0][2] if exc.items else 0
    if available <= 0:
        return "Sorry, that item is sold out."
    return f"Only {available} left in stock."


def _cart_response(request, *, status: int = 200):
    cart = current_cart(request)
    context = {"cart_view": selectors.cart_view(cart=cart)}
    template = "orders/_cart_body.html" if request.htmx else "orders/cart.html"
    return render(request, template, context, status=status)


def cart_detail(request):
    return _cart_response(request)


@require_POST
def cart_add_view(request):
    form = AddToCartForm(request.POST)
    next_url = request.POST.get("next") or "cart"
    if not form.is_valid():
        messages.error(request, "Choose an option and a quantity from 1 to 99.")
        return _after_cart_change(request, next_url, status=400)
    cart = current_cart(request, create=True)
    try:
        cart_add(
            cart=cart, variant_id=form.cleaned_data["variant_id"], quantity=form.cleaned_data["quantity"]
        )
    except InsufficientStock as exc:
        messages.error(request, _stock_message(exc))
        return _after_cart_change(request, next_url, status=409)
    except VariantUnavailable as exc:
        messages.error(request, str(exc))
        return _after_cart_change(request, next_url, status=404)
    messages.success(request, "Added to your cart.")
    return _after_cart_change(request, next_url)


def _after_cart_change(request, next_url: str, *, status: int = 200):
    if request.htmx:
        return render(request, "orders/_cart_badge.html", {"messages_only": True}, status=status)
    if status >= 400:
        # No redirect for a refusal: the cart page carries the message with a 4xx status.
        return _cart_response(request, status=status)
    if next_url != "cart" and url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        return redirect(next_url)
    return redirect("cart")


@require_POST
def cart_line_update(request, line_id: int):
    cart = current_cart(request)
    form = CartLineForm(request.POST)
    if cart is None or not form.is_valid():
        messages.error(request, "Enter a quantity from 0 to 99.")
        return _cart_response(request, status=400) if request.htmx else redirect("cart")
    try:
        cart_line_set_quantity(cart=cart, line_id=line_id, quantity=form.cleaned_data["quantity"])
    except InsufficientStock as exc:
        messages.error(request, _stock_message(exc))
        return _cart_response(request, status=409) if request.htmx else redirect("cart")
    except CartError as exc:
        messages.error(request, str(exc))
        return _cart_response(request, status=404) if request.htmx else redirect("cart")
    return _cart_response(request) if request.htmx else redirect("cart")


@require_POST
def cart_line_delete(request, line_id: int):
    cart = current_cart(request)
    if cart is not None:
        cart_line_remove(cart=cart, line_id=line_id)
    return _cart_response(request) if request.htmx else redirect("cart")


@login_required
@require_http_methods(["GET", "POST"])
def checkout(request):
    cart = current_cart(request, create=True)
    cart_view = selectors.cart_view(cart=cart)
    saved = selectors.addresses_for_user(user=request.user)
    shops = {group.shop.pk: group.shop for group in cart_view.groups}
    form_kwargs = {"shipping_methods": shipping_methods_for(shop_ids=shops), "shops": shops}
    status = 200
    if request.method == "POST":
        form = CheckoutForm(request.POST, **form_kwargs)
        if form.is_valid():
            key = form.cleaned_data["checkout_key"]
            try:
                checkout_complete(
                    user=request.user,
                    cart=cart,
                    checkout_key=key,
                    email=form.cleaned_data["email"],
                    address=form.address_data(),
                    card_number=form.cleaned_data["card_number"],
                    shipping=form.shipping_choices(),
                    save_address=form.cleaned_data["save_address"],
                )
            except PaymentDeclined as exc:
                form.add_error("card_number", exc.message)
                status = 402
            except CheckoutClosed as exc:
                form.add_error(None, exc.message)
                status = 409
            except InsufficientStock as exc:
                form.add_error(
                    None, "Some items sold out while you were checking out: " + _stock_message(exc)
                )
                status = 409
            except (EmptyCart, VariantUnavailable) as exc:
                messages.error(request, str(exc))
                return redirect("cart")
            else:
                return redirect("checkout_done", key=key)
            # A failed attempt gets a fresh key, so the next try is a new checkout.
            data = request.POST.copy()
            data["checkout_key"] = str(CheckoutForm.new_key())
            form.data = data
        else:
            status = 400
    else:
        if cart_view.is_empty:
            messages.info(request, "Your cart is empty.")
            return redirect("cart")
        initial = {"checkout_key": CheckoutForm.new_key(), "email": request.user.email, "save_address": True}
        if saved:
            initial.update({f: getattr(saved[0], f) for f in CheckoutForm.Meta.fields})
        form = CheckoutForm(initial=initial, **form_kwargs)
    holds = selectors.reservations_active_for_user(user=request.user)
    context = {
        "form": form,
        "cart_view": selectors.cart_view(cart=cart, holds=holds),
        "saved_addresses": saved,
        "holds": holds,
    }
    return render(request, "orders/checkout.html", context, status=status)


@login_required
def checkout_done(request, key):
    orders = list(selectors.orders_for_user(user=request.user).filter(checkout_key=key))
    if not orders:
        raise Http404("No such checkout")
    return render(request, "orders/checkout_done.html", {"orders": orders})


@login_required
def order_list(request):
    return render(
        request,
        "orders/order_list.html",
        {"orders": selectors.orders_placed_for_user(user=request.user)[:100]},
    )


def _order_page(request, order, *, review_form: ReviewForm | None = None, status: int = 200):
    review = getattr(order, "review", None)
    can_review = order_can_be_reviewed(order)
    if review_form is None and can_review:
        initial = {"rating": review.rating, "text": review.text} if review else {}
        review_form = ReviewForm(initial=initial)
    context = {"order": order, "review": review, "can_review": can_review, "review_form": review_form}
    return render(request, "orders/order_detail.html", context, status=status)


@login_required
def order_detail(request, number: str):
    order = selectors.order_get_for_user(user=request.user, number=number)
    return _order_page(request, order)


@login_required
@require_POST
def order_review(request, number: str):
    """The buyer rates the shop for a shipped order (again, to edit the review)."""
    order = selectors.order_get_for_user(user=request.user, number=number)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return _order_page(request, order, review_form=form, status=400)
    try:
        review = review_save(
            user=request.user,
            order_number=order.number,
            rating=form.cleaned_data["rating"],
            text=form.cleaned_data["text"],
        )
    except ReviewNotAllowed as exc:
        messages.error(request, exc.message)
        return _order_page(request, order, status=409)
    except ReviewError as exc:
        messages.error(request, exc.message)
        return _order_page(request, order, review_form=form, status=400)
    edited = getattr(order, "review", None) is not None
    messages.success(request, "Your review was updated." if edited else "Thanks for reviewing the shop!")
    return redirect(review.order)


@login_required
@require_POST
def order_cancel_view(request, number: str):
    """The shopper cancels their own order before it ships (a paid one is refunded in full)."""
    order = selectors.order_get_for_user(user=request.user, number=number)
    try:
        cancelled = order_cancel(order=order, actor=request.user, reason="Cancelled by shopper")
    except IllegalTransition:
        order.refresh_from_db(fields=["status"])
        if order.status in (order.Status.CANCELLED, order.Status.REFUNDED):
            messages.error(request, f"This order is already {order.get_status_display().lower()}.")
        else:
            messages.error(
                request,
                "This order has already shipped, so it can't be cancelled any more. "
                "Contact the shop if you want to send it back.",
            )
        response = order_detail(request, number)
        response.status_code = 409
        return response
    except OrderError as exc:
        # The order is cancelled, but the payment provider refused the refund.
        messages.error(request, f"Your order was cancelled, but the refund did not go through: {exc.message}")
        return redirect(order)
    if cancelled.refunded_total:
        messages.success(
            request,
            f"Your order was cancelled. {cancelled.refunded_total} {cancelled.currency} "
            "is on its way back to your card.",
        )
    else:
        messages.success(request, "Your order was cancelled.")
    return redirect(order)


@login_required
@require_http_methods(["GET", "POST"])
def bidding_setup(request):
    """Save the card a won lot is charged to, and where it ships (Account > Bidding)."""
    method = selectors.payment_method_default(user=request.user)
    address = selectors.address_latest(user=request.user)
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = ""
    status = 200
    if request.method == "POST" and request.POST.get("remove_card"):
        if method is not None:
            payment_method_delete(user=request.user, method_id=method.pk)
            messages.success(request, "Card removed.")
        return redirect("bidding_setup")
    if request.method == "POST":
        form = BiddingSetupForm(request.POST)
        if form.is_valid():
            try:
                payment_method_save(user=request.user, card_number=form.cleaned_data["card_number"])
            except PaymentDeclined as exc:
                form.add_error("card_number", exc.message)
                status = 402
            else:
                address_save(user=request.user, data=form.address_data())
                messages.success(request, "You're ready to bid.")
                return redirect(next_url or "bidding_setup")
        else:
            status = 400
    else:
        initial = {f: getattr(address, f) for f in BiddingSetupForm.Meta.fields} if address else {}
        form = BiddingSetupForm(initial=initial)
    context = {
        "form": form,
        "method": method,
        "ready": selectors.bidding_ready(user=request.user),
        "next": next_url,
    }
    return render(request, "orders/bidding_setup.html", context, status=status)
