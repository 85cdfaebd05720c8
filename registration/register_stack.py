# placeholder until the registration branch lands
