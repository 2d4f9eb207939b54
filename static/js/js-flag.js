/* Mark the page as scripted before it paints (CSS shows JS-only controls under .js). */
document.documentElement.classList.add("js");
